"""The run API (RunSpec -> execute -> RunResult) in-process, with the real Trainer on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

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
