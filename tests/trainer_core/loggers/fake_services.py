"""Stand-ins for the wandb, mlflow, comet_ml and neptune packages: they record what a logger sends them.

Installed into ``sys.modules`` by the tests (monkeypatch), so the loggers run their real code paths against the
services' documented client calls without the packages or a network.
"""

from __future__ import annotations

import types
from typing import Any


class Calls:
    """Every call the fake services received, in order: (what, payload)."""

    def __init__(self) -> None:
        self.items: list[tuple[str, Any]] = []

    def add(self, what: str, payload: Any = None) -> None:
        self.items.append((what, payload))

    def of(self, what: str) -> list[Any]:
        return [payload for name, payload in self.items if name == what]


def fake_wandb(calls: Calls) -> types.ModuleType:
    module = types.ModuleType("wandb")

    class Config:
        def update(self, params: dict[str, Any], allow_val_change: bool = False) -> None:
            calls.add("config", dict(params))

    class Run:
        id = "run123"
        config = Config()

        def project_name(self) -> str:
            return "demo"

        def log(self, row: dict[str, Any]) -> None:
            calls.add("log", dict(row))

        def define_metric(self, name: str, **kwargs: Any) -> None:
            calls.add("define_metric", (name, kwargs))

        def log_artifact(self, artifact: Any, aliases: list[str] | None = None) -> None:
            calls.add("artifact", (artifact.files, aliases))

    class Artifact:
        def __init__(self, name: str, type: str) -> None:  # noqa: A002 - wandb's argument name
            self.files: list[str] = []

        def add_file(self, path: str) -> None:
            self.files.append(path)

    def init(**kwargs: Any) -> Run:
        calls.add("init", kwargs)
        return Run()

    module.run = None
    module.init = init
    module.Artifact = Artifact
    return module


def fake_mlflow(calls: Calls) -> tuple[types.ModuleType, types.ModuleType]:
    module = types.ModuleType("mlflow")
    tracking = types.ModuleType("mlflow.tracking")

    class Client:
        def __init__(self, tracking_uri: str) -> None:
            calls.add("client", tracking_uri)

        def get_experiment_by_name(self, name: str) -> None:
            return None

        def create_experiment(self, name: str, artifact_location: str | None = None) -> str:
            calls.add("create_experiment", name)
            return "7"

        def create_run(self, experiment_id: str, tags: dict[str, str]) -> Any:
            calls.add("create_run", (experiment_id, tags))
            return types.SimpleNamespace(info=types.SimpleNamespace(run_id="r1"))

        def log_param(self, run_id: str, key: str, value: str) -> None:
            calls.add("param", (key, value))

        def log_metric(self, run_id: str, key: str, value: float, timestamp: int, step: int) -> None:
            calls.add("metric", (key, value, step))

        def set_terminated(self, run_id: str, status: str) -> None:
            calls.add("terminated", status)

    tracking.MlflowClient = Client
    module.tracking = tracking
    return module, tracking


def fake_comet(calls: Calls) -> types.ModuleType:
    module = types.ModuleType("comet_ml")

    class Experiment:
        def __init__(self, **kwargs: Any) -> None:
            calls.add("experiment", (type(self).__name__, kwargs))

        def get_key(self) -> str:
            return "key1"

        def set_name(self, name: str) -> None:
            calls.add("name", name)

        def log_parameters(self, params: dict[str, Any]) -> None:
            calls.add("params", dict(params))

        def log_metrics(self, metrics: dict[str, Any], step: int | None = None, epoch: int | None = None) -> None:
            calls.add("metrics", (dict(metrics), step, epoch))

        def end(self) -> None:
            calls.add("end")

    class OfflineExperiment(Experiment):
        pass

    class ExistingExperiment(Experiment):
        pass

    module.Experiment = Experiment
    module.OfflineExperiment = OfflineExperiment
    module.ExistingExperiment = ExistingExperiment
    module.config = types.SimpleNamespace(get_config=lambda key: None)
    return module


def fake_neptune(calls: Calls) -> types.ModuleType:
    module = types.ModuleType("neptune")

    class Field:
        def __init__(self, key: str) -> None:
            self.key = key

        def append(self, value: Any, step: int | None = None) -> None:
            calls.add("append", (self.key, value, step))

        def fetch(self) -> str:
            return "RUN-1"

    class Run:
        def __getitem__(self, key: str) -> Field:
            return Field(key)

        def __setitem__(self, key: str, value: Any) -> None:
            calls.add("set", (key, value))

    def init_run(**kwargs: Any) -> Run:
        calls.add("init_run", kwargs)
        return Run()

    module.init_run = init_run
    return module
