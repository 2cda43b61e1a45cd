"""CometLogger: Comet.ml experiments (Lightning 1.5 constructor arguments), online or offline.

Needs the optional ``comet_ml`` package. Online mode needs an API key (argument, or Comet's own configuration);
offline mode writes an archive into ``save_dir`` for a later upload.
"""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.loggers._optional import flat_params, import_optional
from trainer_core.loggers.base import Logger, rank_zero_experiment, rank_zero_only

__all__ = ["CometLogger"]


class CometLogger(Logger):
    """Log to Comet.ml.

    Args:
        api_key: The Comet API key; online mode. Read from Comet's configuration (``COMET_API_KEY``) when None.
        save_dir: Folder for offline archives; offline mode when no API key is found.
        project_name: The Comet project.
        rest_api_key: Kept for 1.x compatibility (Comet's REST key).
        experiment_name: Shown as the experiment's name.
        experiment_key: Continue this existing experiment.
        offline: Force offline mode even when an API key is available (needs ``save_dir``).
        prefix: Prepended to every metric key as ``"{prefix}-{key}"``.
        **kwargs: Passed on to ``comet_ml.Experiment`` / ``OfflineExperiment``.
    """

    def __init__(self, api_key: str | None = None, save_dir: str | None = None, project_name: str | None = None,
                 rest_api_key: str | None = None, experiment_name: str | None = None,
                 experiment_key: str | None = None, offline: bool = False, prefix: str = "", **kwargs: Any) -> None:
        self._comet = import_optional("comet_ml", "CometLogger", "comet-ml")
        if api_key is None and not offline:
            config = getattr(self._comet, "config", None)
            get_config = getattr(config, "get_config", None)
            api_key = get_config("comet.api_key") if callable(get_config) else None
        if offline or api_key is None:
            if save_dir is None:
                raise MisconfigurationError(
                    "CometLogger needs an api_key (online) or a save_dir (offline): pass one of them, or set "
                    "COMET_API_KEY")
            self.mode = "offline"
        else:
            self.mode = "online"
        self.api_key = api_key
        self.rest_api_key = rest_api_key
        self._save_dir = save_dir
        self._project_name = project_name
        self._experiment_name = experiment_name
        self._experiment_key = experiment_key
        self._prefix = prefix
        self._kwargs = kwargs
        self._experiment: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if self._experiment is not None:
            state["_experiment_key"] = self._experiment.get_key()  # the copy continues the same experiment
        state["_experiment"] = None
        state["_comet"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._comet = import_optional("comet_ml", "CometLogger", "comet-ml")

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The Comet experiment, created on first use."""
        if self._experiment is None:
            comet = self._comet
            if self.mode == "online":
                if self._experiment_key is None:
                    self._experiment = comet.Experiment(api_key=self.api_key, project_name=self._project_name,
                                                        **self._kwargs)
                    self._experiment_key = self._experiment.get_key()
                else:
                    self._experiment = comet.ExistingExperiment(api_key=self.api_key,
                                                                project_name=self._project_name,
                                                                previous_experiment=self._experiment_key,
                                                                **self._kwargs)
            else:
                self._experiment = comet.OfflineExperiment(offline_directory=self._save_dir,
                                                           project_name=self._project_name, **self._kwargs)
                self._experiment_key = self._experiment.get_key()
            if self._experiment_name:
                self._experiment.set_name(self._experiment_name)
        return self._experiment

    @property
    def name(self) -> str:
        if self._project_name:
            return self._project_name
        return str(getattr(self._experiment, "project_name", None) or "comet-default")

    @property
    def version(self) -> str:
        if self._experiment_key is None:
            _ = self.experiment
        return str(self._experiment_key)

    @property
    def save_dir(self) -> str | None:
        return self._save_dir

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        self.experiment.log_parameters(flat_params(params))

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        row = dict(metrics)
        epoch = row.pop("epoch", None)  # Comet has an epoch axis of its own
        self.experiment.log_metrics(self._add_prefix(row, self._prefix), step=step, epoch=epoch)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._experiment is None:
            return
        # end() uploads (online) or writes the archive (offline); the next stage starts a fresh experiment object
        # that continues the same experiment key.
        self._experiment.end()
        self._experiment = None
        if self.mode == "offline":
            self._experiment_key = None
