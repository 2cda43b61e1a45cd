"""The run API (RunSpec -> execute -> RunResult) in-process, with the real Trainer on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml

from trainer_core.exceptions import MisconfigurationError
from trainer_core.loading import DataError, ScriptError
from trainer_core.runner import RunSpec, execute

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "num_sanity_val_steps": 0,
         "log_every_n_steps": 1}


def spec(mode: str = "fit", **changes: object) -> RunSpec:
    base = RunSpec(mode=mode, model_script="model.py", data={"path": "data.csv", "batch_size": 8, "val_split": 8},
                   trainer_flags={**QUIET, "max_epochs": 2})
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_fit_then_validate_and_test_from_checkpoint(project: Path) -> None:
    seen = []
    result = execute(spec(), on_trainer=seen.append)
    assert len(seen) == 1 and seen[0].current_epoch == 2
    run = Path(result.log_dir)
    assert run == project / "lightning_logs" / "version_0"
    assert (run / "metrics.csv").is_file() and (run / "hparams.yaml").is_file()
    saved = RunSpec.from_config(yaml.safe_load((run / "config.yaml").read_text()), "fit")
    assert saved.model_script == str(project / "model.py") and saved.data["path"] == str(project / "data.csv")
    assert saved.trainer_flags == spec().trainer_flags
    assert result.last_checkpoint and Path(result.last_checkpoint).is_file()
    assert Path(result.last_checkpoint).parent == run / "checkpoints"
    assert {"train_loss", "val_loss"} <= set(result.metrics)
    assert all(isinstance(v, float) for v in result.metrics.values())
    validated = execute(spec("validate", ckpt_path=result.last_checkpoint))
    assert validated.results is not None and validated.results[0]["val_loss"] == pytest.approx(
        result.metrics["val_loss"], rel=1e-4)
    tested = execute(spec("test", ckpt_path=result.last_checkpoint))
    assert tested.results is not None and 0.0 <= tested.results[0]["test_acc"] <= 1.0


def test_init_args_and_seed_make_runs_repeatable(project: Path) -> None:
    one = execute(spec(model_init_args={"lr": 0.5}, seed=3))
    two = execute(spec(model_init_args={"lr": 0.5}, seed=3))
    assert one.metrics["train_loss"] == two.metrics["train_loss"]
    assert "lr: 0.5" in (project / one.log_dir / "hparams.yaml").read_text()


def test_debug_fast_dev_run_writes_nothing(project: Path) -> None:
    result = execute(spec("debug", trainer_flags=dict(QUIET)))
    assert result.log_dir is None
    assert not (project / "lightning_logs").exists()


def test_predict_saves_predictions(project: Path) -> None:
    result = execute(spec("predict"))
    predictions = torch.load(result.predictions_path)
    assert sum(len(p) for p in predictions) == 24 and predictions[0].shape[1] == 3


@pytest.mark.parametrize("changes,error,message", [
    ({"model_init_args": {"lrr": 1}}, ScriptError, "takes no argument `lrr`. Did you mean `lr`?"),
    ({"model_class": "Missing"}, ScriptError, "has no class `Missing`"),
    ({"data": {"path": "nope.csv"}}, DataError, "nope.csv does not exist"),
    ({"data": {"path": "data.csv", "batchsize": 3}}, DataError, "Did you mean `batch_size`"),
    ({"model_init_args": {"num_classes": 2}}, DataError, "labels out of range"),
    ({"trainer_flags": {"max_epochs": -5}}, MisconfigurationError, "max_epochs=-5"),
    ({"trainer_flags": {"check_val_interval": 2}}, MisconfigurationError, "Did you mean `val_check_interval`"),
    ({"ckpt_path": "missing.ckpt"}, MisconfigurationError, "ckpt_path missing.ckpt does not exist"),
])
def test_bad_input_fails_before_training(project: Path, changes: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        execute(spec(**changes), on_trainer=lambda trainer: pytest.fail("the Trainer must not be built"))
    assert not (project / "lightning_logs").exists()


def test_config_round_trip() -> None:
    original = RunSpec(mode="tune", model_script="m.py", model_class="Net", model_init_args={"h": 2},
                       data={"path": "d.csv", "batch_size": 4}, trainer_flags={"max_epochs": 1}, ckpt_path=None,
                       tune={"lr_find": True}, seed=5)
    assert RunSpec.from_config(original.to_config(), "tune") == original


def test_no_validation_split_trains_without_validation(project: Path) -> None:
    result = execute(spec(data={"path": "data.csv", "val_split": 0}))
    assert "train_loss" in result.metrics and "val_loss" not in result.metrics


IMAGE_MODEL = '''
import torch
from torch import nn
from torch.nn import functional as F
import trainer_core as pl


class Pixels(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 5, 2))

    def training_step(self, batch, batch_idx):
        x, y = batch
        assert x.shape[1:] == (3, 4, 5) and x.dtype == torch.float32
        loss = F.cross_entropy(self.net(x), y)
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Data(pl.LightningDataModule):
    def __init__(self, size: int = 4):
        super().__init__()
        self.size = size
'''


def test_image_folder_and_script_datamodule_picking(project: Path) -> None:
    import numpy as np

    from trainer_core.loading import write_png

    for label in ("a", "b"):
        (project / "imgs" / label).mkdir(parents=True)
        for i in range(3):
            write_png(project / "imgs" / label / f"{i}.png", np.full((4, 5, 3), 100 * (label == "b") + i, np.uint8))
    (project / "pixels.py").write_text(IMAGE_MODEL)
    result = execute(RunSpec(mode="fit", model_script="pixels.py", data={"path": "imgs", "val_split": 0},
                             trainer_flags={**QUIET, "max_epochs": 1}))
    assert "loss" in result.metrics
    from trainer_core.loading.build import load_classes

    model_cls, dm_cls = load_classes(RunSpec(mode="fit", model_script="pixels.py", data={"script": "pixels.py"}))
    assert (model_cls.__name__, dm_cls.__name__) == ("Pixels", "Data")
    assert model_cls.__module__ == dm_cls.__module__  # one import of the script for both


def test_tune_defaults_to_the_lr_finder(project: Path) -> None:
    result = execute(spec("tune", tune={"lr_find_kwargs": {"num_training": 20, "early_stop_threshold": None}}))
    assert result.tune["batch_size"] is None
    assert result.tune["lr"] is not None and 1e-8 <= result.tune["lr"] <= 1.0


def test_tune_batch_size_on_a_data_file(project: Path) -> None:
    result = execute(spec("tune", tune={"scale_batch_size": "power",
                                        "scale_batch_size_kwargs": {"init_val": 2, "max_trials": 3,
                                                                    "steps_per_trial": 1}}))
    assert result.tune == {"lr": None, "batch_size": 8}
