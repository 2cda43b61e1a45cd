"""MLFlowLogger: MLflow tracking (Lightning 1.5 constructor arguments), a local folder by default.

Needs the optional ``mlflow`` package (``mlflow-skinny`` is enough). Without ``tracking_uri`` (and without
``MLFLOW_TRACKING_URI``) runs go to ``file:{save_dir}``. MLflow 3 refuses that file store unless
``MLFLOW_ALLOW_FILE_STORE=true``; this logger sets it (when unset) for ``file:`` URIs, since a local folder is what
the 1.x logger was made for.
"""

from __future__ import annotations

import logging
import os
import re
import time
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from trainer_core.loggers._optional import flat_params, import_optional
from trainer_core.loggers.base import Logger, rank_zero_experiment, rank_zero_only

__all__ = ["MLFlowLogger"]

log = logging.getLogger("trainer_core")

_FILE_PREFIX = "file:"
_MAX_PARAM_LENGTH = 250  # MLflow rejects longer parameter values
_STATUS = {"success": "FINISHED", "finished": "FINISHED", "failed": "FAILED", "interrupted": "KILLED"}
_KEY_CHARS = re.compile(r"[^a-zA-Z0-9_/. -]+")


class MLFlowLogger(Logger):
    """Log to MLflow.

    Args:
        experiment_name: The MLflow experiment; created when it does not exist.
        run_name: Shown as the run's name (the ``mlflow.runName`` tag).
        tracking_uri: Where MLflow stores runs; ``MLFLOW_TRACKING_URI`` or ``file:{save_dir}`` when None.
        tags: Tags for the run.
        save_dir: The local folder used when no tracking URI is given.
        prefix: Prepended to every metric key as ``"{prefix}-{key}"``.
        artifact_location: Where a new experiment keeps its artifacts.
        run_id: Log into this existing run instead of starting one.

    Examples:
        >>> logger = MLFlowLogger("demo", save_dir="./mlruns")  # doctest: +SKIP
    """

    def __init__(self, experiment_name: str = "lightning_logs", run_name: str | None = None,
                 tracking_uri: str | None = None, tags: dict[str, Any] | None = None,
                 save_dir: str | None = "./mlruns", prefix: str = "", artifact_location: str | None = None,
                 run_id: str | None = None) -> None:
        tracking_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
        if not tracking_uri:
            tracking_uri = f"{_FILE_PREFIX}{os.path.abspath(save_dir or './mlruns')}"
        if tracking_uri.startswith(_FILE_PREFIX):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self._tracking = import_optional("mlflow.tracking", "MLFlowLogger", "mlflow")
        self._experiment_name = experiment_name
        self._run_name = run_name
        self._tracking_uri = tracking_uri
        self._tags = dict(tags or {})
        self._prefix = prefix
        self._artifact_location = artifact_location
        self._run_id = run_id
        self._experiment_id: str | None = None
        self._client: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None  # holds HTTP sessions; rebuilt from the tracking URI on first use
        state["_tracking"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._tracking = import_optional("mlflow.tracking", "MLFlowLogger", "mlflow")

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The ``MlflowClient``; the experiment and the run are created on first use."""
        if self._client is None:
            self._client = self._tracking.MlflowClient(self._tracking_uri)
        if self._run_id is None:
            self._start_run()
        return self._client

    def _start_run(self) -> None:
        client = self._client
        found = client.get_experiment_by_name(self._experiment_name)
        if found is not None:
            self._experiment_id = found.experiment_id
        else:
            log.info("MLflow experiment %r does not exist yet: creating it", self._experiment_name)
            self._experiment_id = client.create_experiment(self._experiment_name,
                                                           artifact_location=self._artifact_location)
        tags = {str(key): str(value) for key, value in self._tags.items()}
        if self._run_name is not None:
            tags.setdefault("mlflow.runName", self._run_name)
        run = client.create_run(experiment_id=self._experiment_id, tags=tags)
        self._run_id = run.info.run_id

    @property
    def run_id(self) -> str:
        """The id of the run this logger writes to (started on first use)."""
        _ = self.experiment
        return str(self._run_id)

    @property
    def experiment_id(self) -> str | None:
        _ = self.experiment
        return self._experiment_id

    @property
    def name(self) -> str:
        return str(self.experiment_id or "")

    @property
    def version(self) -> str:
        return self.run_id

    @property
    def save_dir(self) -> str | None:
        """The local folder of a ``file:`` tracking URI, else None."""
        if self._tracking_uri.startswith(_FILE_PREFIX):
            return self._tracking_uri[len(_FILE_PREFIX):]
        return None

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        client = self.experiment
        for key, value in flat_params(params).items():
            text = str(value)
            if len(text) > _MAX_PARAM_LENGTH:
                log.warning("MLFlowLogger: hyper-parameter %r is longer than %d characters and was cut to fit",
                            key, _MAX_PARAM_LENGTH)
                text = text[:_MAX_PARAM_LENGTH]
            client.log_param(self.run_id, key, text)

    @rank_zero_only
    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        client = self.experiment
        timestamp_ms = int(time.time() * 1000)
        for key, value in self._add_prefix(metrics, self._prefix).items():
            if isinstance(value, str):
                log.warning("MLFlowLogger: metric %r is a string (%r); MLflow stores numbers only, skipped", key,
                            value)
                continue
            clean = _KEY_CHARS.sub("", key)
            if clean != key:
                log.warning("MLFlowLogger: metric %r has characters MLflow rejects; logged as %r", key, clean)
            client.log_metric(self.run_id, clean, float(value), timestamp_ms, step or 0)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        if self._client is None or self._run_id is None:
            return  # nothing was logged: no run to close
        self._client.set_terminated(self._run_id, _STATUS.get(status, "FINISHED"))
