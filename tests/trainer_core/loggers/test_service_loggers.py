"""WandbLogger, MLFlowLogger, CometLogger, NeptuneLogger and TestTubeLogger (issue 15, Logging).

The loggers run against recording stand-ins of the client APIs, next to a CSVLogger in the same fit, and must see the
hyper-parameters, the metrics at the CSV logger's steps, and finalize. wandb and mlflow-skinny are in the test extra:
the real offline wandb run and the real MLflow file store are checked the same way at the end, by reading what the
services wrote. Comet and Neptune need accounts or large installs and stay on the stand-ins.
"""

from __future__ import annotations

import csv
import os
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer
from tests.trainer_core.loggers.fake_services import Calls, fake_comet, fake_mlflow, fake_neptune, fake_wandb
from trainer_core import MisconfigurationError
from trainer_core.loggers import (
    CometLogger,
    CSVLogger,
    MLFlowLogger,
    NeptuneLogger,
    TestTubeLogger,
    WandbLogger,
)


class Logged(BoringModel):
    def __init__(self, hidden: int = 3) -> None:
        super().__init__(batch_size=8)
        self.save_hyperparameters()

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        out = super().training_step(batch, batch_idx)
        self.log("train_loss", out["loss"])
        return out


def fit_beside_csv(tmp_path: Path, logger: Any) -> list[tuple[int, set[str]]]:
    """Fit with ``logger`` and a CSVLogger; returns the CSV rows as (step, keys with a value)."""
    csv_logger = CSVLogger(str(tmp_path), name="csv")
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=4, limit_val_batches=2, log_every_n_steps=2,
                            num_sanity_val_steps=0, logger=[csv_logger, logger])
    trainer.fit(Logged())
    with open(os.path.join(csv_logger.log_dir, "metrics.csv"), newline="") as handle:
        return [(int(row["step"]), {k for k, v in row.items() if v and k != "step"}) for row in csv.DictReader(handle)]


@pytest.mark.parametrize(("cls", "module", "install"), [
    (WandbLogger, "wandb", "wandb"),
    (MLFlowLogger, "mlflow", "mlflow"),
    (CometLogger, "comet_ml", "comet-ml"),
    (NeptuneLogger, "neptune", "neptune"),
])
def test_missing_package_is_a_one_line_error_naming_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cls: type,
                                                       module: str, install: str) -> None:
    # The import fails as if the package were absent (also for a submodule an earlier test imported).
    for name in [name for name in sys.modules if name == module or name.startswith(f"{module}.")] + [module]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModuleNotFoundError, match=f"{cls.__name__} needs .* pip install {install}$") as err:
        cls(save_dir=str(tmp_path)) if cls is not NeptuneLogger else cls()
    assert "\n" not in str(err.value)


def test_test_tube_logger_says_it_was_removed() -> None:
    with pytest.raises(MisconfigurationError, match="TestTubeLogger was removed.*TensorBoardLogger"):
        TestTubeLogger("logs", name="x")


def test_wandb_offline_receives_hparams_metrics_at_the_csv_steps(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    calls = Calls()
    monkeypatch.setitem(sys.modules, "wandb", fake_wandb(calls))
    logger = WandbLogger(project="demo", offline=True, save_dir=str(tmp_path), prefix="p")
    rows = fit_beside_csv(tmp_path, logger)
    assert calls.of("init") == [{"project": "demo", "dir": str(tmp_path), "resume": "allow", "mode": "offline"}]
    assert calls.of("config") == [{"hidden": 3}]
    logged = calls.of("log")
    assert [row["trainer/global_step"] for row in logged] == [step for step, _ in rows]
    assert [{k[2:] for k in row if k.startswith("p-")} for row in logged] == [keys for _, keys in rows]
    assert ("*", {"step_metric": "trainer/global_step", "step_sync": True}) in calls.of("define_metric")
    assert logger.version == "run123" and logger.name == "demo"


def test_wandb_offline_with_log_model_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "wandb", fake_wandb(Calls()))
    with pytest.raises(ValueError, match="offline runs cannot upload checkpoints"):
        WandbLogger(offline=True, log_model=True)


def test_mlflow_local_file_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = Calls()
    module, tracking = fake_mlflow(calls)
    monkeypatch.setitem(sys.modules, "mlflow", module)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", tracking)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    logger = MLFlowLogger("exp", run_name="first", save_dir=str(tmp_path / "mlruns"))
    assert os.environ["MLFLOW_ALLOW_FILE_STORE"] == "true"  # mlflow 3 refuses file: stores without it
    rows = fit_beside_csv(tmp_path, logger)
    assert calls.of("client")[0] == f"file:{tmp_path / 'mlruns'}"
    assert calls.of("create_run") == [("7", {"mlflow.runName": "first"})]
    assert calls.of("param") == [("hidden", "3")]
    expected = sorted((key, step) for step, keys in rows for key in keys)
    assert sorted((key, step) for key, _, step in calls.of("metric")) == expected
    assert calls.of("terminated") == ["FINISHED"]
    assert logger.save_dir == str(tmp_path / "mlruns")


def test_comet_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = Calls()
    monkeypatch.setitem(sys.modules, "comet_ml", fake_comet(calls))
    logger = CometLogger(save_dir=str(tmp_path), project_name="demo", experiment_name="first")
    assert logger.mode == "offline"
    rows = fit_beside_csv(tmp_path, logger)
    kind, kwargs = calls.of("experiment")[0]
    assert kind == "OfflineExperiment" and kwargs["offline_directory"] == str(tmp_path)
    assert calls.of("name") == ["first"]
    assert calls.of("params") == [{"hidden": 3}]
    logged = calls.of("metrics")
    assert [step for _, step, _ in logged] == [step for step, _ in rows]
    assert [set(metrics) | {"epoch"} for metrics, _, _ in logged] == [keys for _, keys in rows]
    assert calls.of("end") == [None]


def test_comet_without_key_or_folder_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "comet_ml", fake_comet(Calls()))
    with pytest.raises(MisconfigurationError, match="api_key .* or a save_dir"):
        CometLogger()


def test_neptune(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = Calls()
    monkeypatch.setitem(sys.modules, "neptune", fake_neptune(calls))
    logger = NeptuneLogger(project="ws/demo", mode="offline")
    rows = fit_beside_csv(tmp_path, logger)
    assert calls.of("init_run") == [{"project": "ws/demo", "mode": "offline"}]
    assert ("training/hyperparams", {"hidden": 3}) in calls.of("set")
    expected = sorted((f"training/{key}", step) for step, keys in rows for key in keys)
    assert sorted((key, step) for key, _, step in calls.of("append")) == expected
    assert ("training/status", "success") in calls.of("set")


def _wandb_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Offline mode with every wandb folder (run files, settings, cache) under ``tmp_path``."""
    pytest.importorskip("wandb", reason="needs wandb (in the test extra: pip install -e .[test])")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for variable, folder in (("WANDB_DIR", "wandb-dir"), ("WANDB_CONFIG_DIR", "wandb-config"),
                             ("WANDB_CACHE_DIR", "wandb-cache"), ("WANDB_DATA_DIR", "wandb-data")):
        (tmp_path / folder).mkdir()
        monkeypatch.setenv(variable, str(tmp_path / folder))


def test_real_wandb_offline_run_holds_the_hparams_and_the_metrics_at_the_csv_steps(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _wandb_offline(monkeypatch, tmp_path)
    from tests.trainer_core.loggers.wandb_run_file import read_finished_run

    logger = WandbLogger(project="trainer-core-test", save_dir=str(tmp_path))
    assert logger.offline  # from WANDB_MODE
    try:
        rows = fit_beside_csv(tmp_path, logger)
        run_id = logger.version
    finally:
        logger.experiment.finish()  # ends the run (1.x's finalize leaves it open for a later trainer.test)
    (run_file,) = (tmp_path / "wandb").glob(f"offline-run-*-{run_id}/run-{run_id}.wandb")
    run = read_finished_run(run_file)
    assert run.config["hidden"] == 3
    history = [row for row in run.history if "trainer/global_step" in row]
    assert [row["trainer/global_step"] for row in history] == [step for step, _ in rows]
    assert [{k for k in row if not k.startswith("_") and k != "trainer/global_step"} for row in history] == [
        keys for _, keys in rows]


def test_real_mlflow_file_store_holds_the_hparams_and_the_metrics_at_the_csv_steps(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("mlflow", reason="needs mlflow-skinny (in the test extra: pip install -e .[test])")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "")
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE")  # the logger turns it on itself for a file: store
    monkeypatch.chdir(tmp_path)
    logger = MLFlowLogger("exp", run_name="first", save_dir=str(tmp_path / "mlruns"))
    rows = fit_beside_csv(tmp_path, logger)

    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"file:{tmp_path / 'mlruns'}")  # a fresh client reads what the logger wrote
    run = client.get_run(logger.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"hidden": "3"} and run.data.tags["mlflow.runName"] == "first"
    assert client.get_experiment(run.info.experiment_id).name == "exp"
    logged = sorted((key, m.step) for key in run.data.metrics for m in client.get_metric_history(run.info.run_id, key))
    assert logged == sorted((key, step) for step, keys in rows for key in keys)
    history = client.get_metric_history(run.info.run_id, "train_loss")
    assert all(torch.isfinite(torch.tensor(m.value)) for m in history)


def test_loggers_with_a_live_client_pickle_and_continue_the_same_run(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    calls = Calls()
    monkeypatch.setitem(sys.modules, "wandb", fake_wandb(calls))
    module, tracking = fake_mlflow(calls)
    monkeypatch.setitem(sys.modules, "mlflow", module)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", tracking)
    wandb_logger = WandbLogger(project="demo", offline=True)
    wandb_logger.log_metrics({"a": 1.0}, step=0)  # starts the run
    mlflow_logger = MLFlowLogger("exp", save_dir=str(tmp_path))
    mlflow_logger.log_metrics({"a": 1.0}, step=0)
    wandb_copy = pickle.loads(pickle.dumps(wandb_logger))
    mlflow_copy = pickle.loads(pickle.dumps(mlflow_logger))
    wandb_copy.log_metrics({"a": 2.0}, step=1)
    assert calls.of("init")[-1]["id"] == "run123"  # the copy re-attaches to the run it came from
    assert mlflow_copy.run_id == "r1"
