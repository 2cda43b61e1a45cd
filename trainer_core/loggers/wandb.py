"""WandbLogger: Weights & Biases runs (Lightning 1.5 constructor arguments), online or offline.

Needs the optional ``wandb`` package. ``offline=True`` (or ``WANDB_MODE=offline`` in the environment) writes the run
under ``save_dir/wandb`` for a later ``wandb sync``, without an account or a network.

Metrics are logged with the trainer's step as the ``trainer/global_step`` value, the x axis wandb is told to use for
every other key, so the steps are the ones the CSV logger writes (wandb's own step counter only ever increases and
would refuse the repeated step of an epoch-end row).
"""

from __future__ import annotations

import os
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from trainer_core.loggers._optional import flat_params, import_optional
from trainer_core.loggers.base import Logger, rank_zero_experiment, rank_zero_only

__all__ = ["WandbLogger"]

_STEP_KEY = "trainer/global_step"


class WandbLogger(Logger):
    """Log to Weights & Biases.

    Args:
        name: Display name of the run.
        save_dir: Folder for wandb's local files (``wandb.init(dir=...)``).
        offline: Run without network; sync later with ``wandb sync``.
        id: Run id, to resume a run (``version`` is the 1.x alias).
        anonymous: Log anonymously (``anonymous="allow"``).
        version: Same as ``id``.
        project: The wandb project.
        log_model: ``True`` uploads the checkpoints at the end of fit, ``"all"`` after every save, ``False`` never.
        experiment: An existing ``wandb`` run to log into instead of starting one.
        prefix: Prepended to every metric key as ``"{prefix}-{key}"``.
        **kwargs: Passed on to ``wandb.init`` (``entity``, ``group``, ``tags``, ``config``, ``mode``, ...).

    Examples:
        >>> logger = WandbLogger(project="demo", offline=True)  # doctest: +SKIP
    """

    def __init__(self, name: str | None = None, save_dir: str | None = None, offline: bool = False,
                 id: str | None = None, anonymous: bool | None = None, version: str | None = None,  # noqa: A002
                 project: str | None = None, log_model: bool | str = False, experiment: Any = None,
                 prefix: str = "", **kwargs: Any) -> None:
        self._wandb = import_optional("wandb", "WandbLogger", "wandb")
        if offline and log_model:
            raise ValueError(
                f"WandbLogger(offline=True, log_model={log_model!r}): offline runs cannot upload checkpoints; "
                "set log_model=False or go online")
        self._offline = offline
        self._log_model = log_model
        self._prefix = prefix
        self._experiment = experiment
        self._save_dir = save_dir
        init: dict[str, Any] = {"name": name, "project": project, "id": version or id, "dir": save_dir,
                                "resume": "allow", "anonymous": "allow" if anonymous else None}
        if offline:
            init["mode"] = "offline"
        init.update(kwargs)
        self._init_args = {key: value for key, value in init.items() if value is not None}
        self._saved_checkpoints: set[str] = set()
        self._checkpoint_callback: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # The run object holds sockets and threads; a pickled copy (ddp_spawn, Trainer pickling) re-attaches by id.
        state = dict(self.__dict__)
        if self._experiment is not None:
            state["_init_args"] = {**self._init_args, "id": getattr(self._experiment, "id", None), "resume": "allow"}
        state["_experiment"] = None
        state["_wandb"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._wandb = import_optional("wandb", "WandbLogger", "wandb")

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The wandb run (``wandb.run`` when one is already active, else a new ``wandb.init``)."""
        if self._experiment is None:
            wandb = self._wandb
            if getattr(wandb, "run", None) is not None:
                self._experiment = wandb.run
            else:
                self._experiment = wandb.init(**self._init_args)
            define = getattr(self._experiment, "define_metric", None)
            if callable(define):
                define(_STEP_KEY)
                define("*", step_metric=_STEP_KEY, step_sync=True)
        return self._experiment

    @property
    def name(self) -> str:
        project = getattr(self._experiment, "project_name", None) if self._experiment is not None else None
        if callable(project):
            project = project()
        return str(project or self._init_args.get("project") or "")

    @property
    def version(self) -> str:
        """The run id. Asking for it starts the run when no id was given: in 1.5 the run exists by the time the
        trainer names folders after it, so each run's checkpoints get their own ``save_dir/project/<id>`` folder."""
        given = self._init_args.get("id")
        if self._experiment is None and given:
            return str(given)
        run_id = getattr(self.experiment, "id", "")  # a DummyExperiment (ranks other than 0) has no real id
        return run_id if isinstance(run_id, str) else ""

    @property
    def save_dir(self) -> str | None:
        return self._save_dir

    @property
    def offline(self) -> bool:
        return self._offline or os.environ.get("WANDB_MODE", "").lower() in ("offline", "dryrun")

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        self.experiment.config.update(flat_params(params), allow_val_change=True)

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        row = self._add_prefix(metrics, self._prefix)
        if step is not None:
            row[_STEP_KEY] = step
        self.experiment.log(row)

    @rank_zero_only
    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        self._checkpoint_callback = checkpoint_callback
        if self._log_model == "all":
            self._upload_checkpoints()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._log_model is True and self._checkpoint_callback is not None and status == "success":
            self._upload_checkpoints()

    def _upload_checkpoints(self) -> None:
        callback = self._checkpoint_callback
        paths = {getattr(callback, "best_model_path", ""), getattr(callback, "last_model_path", "")}
        paths |= set(getattr(callback, "best_k_models", {}) or {})
        for path in sorted(p for p in paths if p and os.path.isfile(p) and p not in self._saved_checkpoints):
            artifact = self._wandb.Artifact(name=f"model-{self.version}", type="model")
            artifact.add_file(path)
            aliases = ["latest"] + (["best"] if path == getattr(callback, "best_model_path", None) else [])
            self.experiment.log_artifact(artifact, aliases=aliases)
            self._saved_checkpoints.add(path)
