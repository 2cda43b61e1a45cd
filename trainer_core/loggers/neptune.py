"""NeptuneLogger: neptune.ai runs (Lightning 1.5's constructor arguments for the ``neptune.new`` API).

Needs the optional ``neptune`` package (``neptune-client`` for older releases). Everything is stored under
``{prefix}/``: hyper-parameters at ``{prefix}/hyperparams``, each metric as a series ``{prefix}/{key}``.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from trainer_core.loggers._optional import flat_params, import_optional
from trainer_core.loggers.base import Logger, rank_zero_experiment, rank_zero_only

__all__ = ["NeptuneLogger"]


def _neptune_module() -> Any:
    # neptune >= 1.0 has init_run at the top level; neptune-client 0.x has the same API under neptune.new.
    module = import_optional("neptune", "NeptuneLogger", "neptune")
    if hasattr(module, "init_run"):
        return module
    return import_optional("neptune.new", "NeptuneLogger", "neptune")


class NeptuneLogger(Logger):
    """Log to neptune.ai.

    Args:
        api_key: The Neptune API token (``NEPTUNE_API_TOKEN`` when None).
        project: ``workspace/project`` (``NEPTUNE_PROJECT`` when None).
        name: The run's name.
        run: An existing Neptune run to log into.
        log_model_checkpoints: Upload the saved checkpoints when the run ends.
        prefix: The namespace everything is stored under.
        **neptune_run_kwargs: Passed on to ``neptune.init_run`` (``mode="offline"``, ``tags``, ...).
    """

    def __init__(self, api_key: str | None = None, project: str | None = None, name: str | None = None,
                 run: Any = None, log_model_checkpoints: bool = True, prefix: str = "training",
                 **neptune_run_kwargs: Any) -> None:
        self._neptune = _neptune_module()
        self._init_args = {key: value for key, value in
                           {"api_token": api_key, "project": project, "name": name, **neptune_run_kwargs}.items()
                           if value is not None}
        self._run = run
        self._log_model_checkpoints = log_model_checkpoints
        self._prefix = prefix
        self._checkpoint_callback: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._run is not None:
            run_id = self._safe_run_id()
            if run_id:
                state["_init_args"] = {**self._init_args, "with_id": run_id}  # the copy continues the run
        state["_run"] = None
        state["_neptune"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._neptune = _neptune_module()

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The Neptune run, started on first use."""
        if self._run is None:
            init = getattr(self._neptune, "init_run", None) or self._neptune.init
            self._run = init(**self._init_args)
        return self._run

    @property
    def run(self) -> Any:
        return self.experiment

    def _key(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def _safe_run_id(self) -> str | None:
        try:
            return str(self._run["sys/id"].fetch())
        except Exception:  # noqa: BLE001 - offline/debug runs have no server-side id
            return None

    @property
    def name(self) -> str:
        return str(self._init_args.get("name") or "neptune")

    @property
    def version(self) -> str:
        return (self._safe_run_id() if self._run is not None else None) or ""

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        self.experiment[self._key("hyperparams")] = flat_params(params)

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        run = self.experiment
        for key, value in metrics.items():
            target = run[self._key(key)]
            # neptune >= 1.0 names the series method append(); neptune-client 0.x log().
            append = getattr(target, "append", None) or target.log
            append(value, step=step)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        self._checkpoint_callback = checkpoint_callback

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._run is None:
            return
        self._run[self._key("status")] = status
        callback = self._checkpoint_callback
        if self._log_model_checkpoints and callback is not None:
            best = getattr(callback, "best_model_path", "")
            if best:
                self._run[self._key("model/best_model_path")] = best
                self._run[self._key("model/checkpoints/best")].upload(best)
