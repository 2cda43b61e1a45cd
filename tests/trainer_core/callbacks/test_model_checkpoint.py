"""ModelCheckpoint: names (Lightning 1.5's file names), top-k bookkeeping, triggers, on a fake trainer."""

from __future__ import annotations

import math
import os
from datetime import timedelta

import pytest
import torch
from helpers.fake_trainer import FakeLogger, FakeTrainer

from trainer_core.callbacks import ModelCheckpoint
from trainer_core.exceptions import MisconfigurationError


def names(folder) -> list[str]:
    return sorted(os.listdir(folder))


def test_format_checkpoint_name_anchors(tmp_path) -> None:
    fmt = ModelCheckpoint._format_checkpoint_name
    assert fmt("", {"epoch": 3, "step": 2}) == "epoch=3-step=2"
    assert fmt(None, {"epoch": 3, "step": 2}, prefix="test") == "test-epoch=3-step=2"
    assert fmt("{epoch:03d}-{acc}", {"epoch": 3, "acc": 0.03}) == "epoch=003-acc=0.03"
    assert fmt("{epoch}-{missing}", {"epoch": 1}) == "epoch=1-missing=0"  # unknown names are 0
    assert (
        fmt("epoch={epoch:03d}-val_acc={val/acc}", {"epoch": 3, "val/acc": 0.03}, auto_insert_metric_name=False)
        == "epoch=003-val_acc=0.03"
    )
    assert fmt("{val_loss:.2f}", {"val_loss": torch.tensor(0.123)}) == "val_loss=0.12"

    ckpt = ModelCheckpoint(dirpath=None, filename="name")
    assert ckpt.format_checkpoint_name({}, ver=3) == "name-v3.ckpt"
    assert ckpt.format_checkpoint_name({"epoch": 3, "step": 2}, filename="") == "epoch=3-step=2.ckpt"
    in_dir = ModelCheckpoint(dirpath=tmp_path)
    assert in_dir.format_checkpoint_name({"epoch": 1, "step": 4}) == os.path.join(
        os.path.realpath(tmp_path), "epoch=1-step=4.ckpt"
    )


def epoch_end(ckpt: ModelCheckpoint, trainer: FakeTrainer, epoch: int, step: int, **metrics: float) -> None:
    trainer.current_epoch, trainer.global_step = epoch, step
    trainer.callback_metrics = {k: torch.tensor(v) for k, v in metrics.items()}
    ckpt.on_train_epoch_end(trainer, None)


def test_default_keeps_only_latest_epoch(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path)
    ckpt.setup(trainer, None, "fit")
    for epoch in range(3):
        epoch_end(ckpt, trainer, epoch, 2 * (epoch + 1))
    assert names(tmp_path) == ["epoch=2-step=6.ckpt"]
    assert ckpt.best_model_path.endswith("epoch=2-step=6.ckpt")


def test_top_k_bookkeeping_min_mode(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=2, filename="{epoch}-{val_loss:.1f}")
    ckpt.setup(trainer, None, "fit")
    for epoch, loss in enumerate([5.0, 3.0, 4.0, 1.0, 6.0]):
        epoch_end(ckpt, trainer, epoch, epoch + 1, val_loss=loss)
    assert names(tmp_path) == ["epoch=1-val_loss=3.0.ckpt", "epoch=3-val_loss=1.0.ckpt"]
    assert ckpt.best_model_path.endswith("epoch=3-val_loss=1.0.ckpt")
    assert float(ckpt.best_model_score) == 1.0
    assert ckpt.kth_best_model_path.endswith("epoch=1-val_loss=3.0.ckpt") and float(ckpt.kth_value) == 3.0
    assert sorted(float(v) for v in ckpt.best_k_models.values()) == [1.0, 3.0]
    # 5 epochs, but epoch 4 (6.0) was not in the top 2: 4 saves
    assert len(trainer.saved) == 4


def test_top_k_max_mode_and_keep_all(tmp_path) -> None:
    trainer = FakeTrainer()
    best = ModelCheckpoint(dirpath=tmp_path / "best", monitor="acc", mode="max", filename="{epoch}")
    keep_all = ModelCheckpoint(dirpath=tmp_path / "all", monitor="acc", save_top_k=-1, filename="{epoch}")
    for ckpt in (best, keep_all):
        ckpt.setup(trainer, None, "fit")
    for epoch, acc in enumerate([0.1, 0.7, 0.3]):
        for ckpt in (best, keep_all):
            ckpt._last_global_step_saved = -1  # two callbacks share one fake step counter
            epoch_end(ckpt, trainer, epoch, epoch, acc=acc)
    assert names(tmp_path / "best") == ["epoch=1.ckpt"]
    assert names(tmp_path / "all") == ["epoch=0.ckpt", "epoch=1.ckpt", "epoch=2.ckpt"]


def test_nan_score_never_becomes_best(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=2, filename="{epoch}")
    ckpt.setup(trainer, None, "fit")
    epoch_end(ckpt, trainer, 0, 1, val_loss=math.nan)
    epoch_end(ckpt, trainer, 1, 2, val_loss=2.0)
    epoch_end(ckpt, trainer, 2, 3, val_loss=3.0)
    assert names(tmp_path) == ["epoch=1.ckpt", "epoch=2.ckpt"]
    assert float(ckpt.best_model_score) == 2.0


def test_save_last_and_final_state(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_last=True, every_n_epochs=2)
    ckpt.setup(trainer, None, "fit")
    for epoch in range(3):
        epoch_end(ckpt, trainer, epoch, epoch + 1)
    assert names(tmp_path) == ["epoch=1-step=2.ckpt", "last.ckpt"]
    assert torch.load(tmp_path / "last.ckpt")["global_step"] == 2
    trainer.global_step = 3
    ckpt.on_train_end(trainer, None)  # the end of fit refreshes last.ckpt
    assert torch.load(tmp_path / "last.ckpt")["global_step"] == 3
    assert ckpt.last_model_path == os.path.join(os.path.realpath(tmp_path), "last.ckpt")
    saves = len(trainer.saved)
    ckpt.on_train_end(trainer, None)  # nothing new: no second write of the same step
    assert len(trainer.saved) == saves


def test_every_n_train_steps(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=3, save_top_k=-1)
    ckpt.setup(trainer, None, "fit")
    ckpt.on_train_start(trainer, None)
    for step in range(1, 8):
        trainer.global_step = step
        ckpt.on_train_batch_end(trainer, None, None, None, step - 1)
        ckpt.on_train_batch_end(trainer, None, None, None, step - 1)  # accumulation: same step twice
    ckpt.on_train_epoch_end(trainer, None)  # the epoch trigger is off when a step trigger is given
    assert names(tmp_path) == ["epoch=0-step=3.ckpt", "epoch=0-step=6.ckpt"]


def test_train_time_interval(tmp_path, monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("trainer_core.callbacks.model_checkpoint.time.monotonic", lambda: clock[0])
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, train_time_interval=timedelta(seconds=10), save_top_k=-1)
    ckpt.setup(trainer, None, "fit")
    ckpt.on_train_start(trainer, None)
    for step, now in ((1, 105.0), (2, 111.0), (3, 115.0), (4, 122.0)):
        clock[0] = now
        trainer.global_step = step
        ckpt.on_train_batch_end(trainer, None, None, None, step)
    assert names(tmp_path) == ["epoch=0-step=2.ckpt", "epoch=0-step=4.ckpt"]


def test_versioned_names_when_file_exists(tmp_path) -> None:
    (tmp_path / "fixed.ckpt").write_bytes(b"old run")
    trainer = FakeTrainer()
    with pytest.warns(UserWarning, match="not empty"):
        ckpt = ModelCheckpoint(dirpath=tmp_path, filename="fixed", save_top_k=-1)
        ckpt.setup(trainer, None, "fit")
        ckpt.on_train_start(trainer, None)
    epoch_end(ckpt, trainer, 0, 1)
    epoch_end(ckpt, trainer, 1, 2)
    assert names(tmp_path) == ["fixed-v1.ckpt", "fixed-v2.ckpt", "fixed.ckpt"]
    assert (tmp_path / "fixed.ckpt").read_bytes() == b"old run"


def test_monitor_missing_lists_metrics(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor="val_los")
    ckpt.setup(trainer, None, "fit")
    with pytest.raises(MisconfigurationError, match=r"'val_los'.*\['train_loss', 'val_loss'\].*self.log"):
        epoch_end(ckpt, trainer, 0, 1, val_loss=1.0, train_loss=2.0)


def test_monitor_missing_before_validation_only_warns(tmp_path) -> None:
    trainer = FakeTrainer(check_val_every_n_epoch=2)
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", every_n_train_steps=1)
    ckpt.setup(trainer, None, "fit")
    trainer.global_step = 1
    # Another metric was logged, so the monitor is missing (with nothing logged at all, 1.5 skips silently).
    trainer.callback_metrics["train_loss"] = torch.tensor(1.0)
    with pytest.warns(RuntimeWarning, match="val_loss"):
        ckpt.on_train_batch_end(trainer, None, None, None, 0)
    assert names(tmp_path) == []
    ckpt.on_validation_end(trainer, None)  # validation ran (and saved nothing: step trigger)
    trainer.global_step = 2
    with pytest.raises(MisconfigurationError, match="val_loss"):
        ckpt.on_train_batch_end(trainer, None, None, None, 1)


@pytest.mark.parametrize(
    "changes", [{"sanity_checking": True}, {"fast_dev_run": 1}, {"stage": "validate"}]
)
def test_nothing_saved_in_sanity_fast_dev_run_or_outside_fit(tmp_path, changes: dict) -> None:
    trainer = FakeTrainer()
    if changes.pop("stage", None):
        trainer.state.stage = "validate"
    for key, value in changes.items():
        setattr(trainer, key, value)
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ckpts", save_last=True, every_n_train_steps=1)
    ckpt.setup(trainer, None, "fit")
    trainer.global_step = 1
    ckpt.on_train_batch_end(trainer, None, None, None, 0)
    ckpt.on_validation_end(trainer, None)
    if changes.get("fast_dev_run"):
        ckpt.on_train_end(trainer, None)
    assert trainer.saved == []
    assert not (tmp_path / "ckpts").exists()


def test_only_rank_zero_creates_folders(tmp_path) -> None:
    trainer = FakeTrainer(is_global_zero=False)
    ckpt = ModelCheckpoint(dirpath=tmp_path / "sub")
    ckpt.setup(trainer, None, "fit")
    saved = []
    trainer.save_checkpoint = lambda path, weights_only=False: saved.append(path)  # the trainer's call, all ranks
    epoch_end(ckpt, trainer, 0, 1)
    assert len(saved) == 1 and not (tmp_path / "sub").exists()


def test_default_dirpath(tmp_path) -> None:
    with_logger = FakeTrainer(loggers=[FakeLogger()], log_dir=str(tmp_path / "lightning_logs" / "version_0"))
    ckpt = ModelCheckpoint()
    ckpt.setup(with_logger, None, "fit")
    assert ckpt.dirpath == os.path.realpath(tmp_path / "lightning_logs" / "version_0" / "checkpoints")
    without = FakeTrainer(default_root_dir=str(tmp_path))
    ckpt = ModelCheckpoint()
    ckpt.setup(without, None, "fit")
    assert ckpt.dirpath == os.path.realpath(tmp_path / "checkpoints")


def test_weights_only_and_logger_notified(tmp_path) -> None:
    logger = FakeLogger()
    trainer = FakeTrainer(loggers=[logger], log_dir=str(tmp_path))
    ckpt = ModelCheckpoint(save_weights_only=True)
    ckpt.setup(trainer, None, "fit")
    epoch_end(ckpt, trainer, 0, 2)
    assert trainer.saved == [(os.path.join(os.path.realpath(tmp_path), "checkpoints", "epoch=0-step=2.ckpt"), True)]
    assert logger.saved_checkpoints == [ckpt]


def test_subfolder_from_metric_name(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, filename="{val/loss:.1f}", monitor="val/loss")
    ckpt.setup(trainer, None, "fit")
    epoch_end(ckpt, trainer, 0, 1, **{"val/loss": 0.5})
    assert os.path.isfile(tmp_path / "val" / "loss=0.5.ckpt")


def test_state_round_trip(tmp_path) -> None:
    trainer = FakeTrainer()
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=2, filename="{epoch}")
    ckpt.setup(trainer, None, "fit")
    epoch_end(ckpt, trainer, 0, 1, val_loss=2.0)
    epoch_end(ckpt, trainer, 1, 2, val_loss=1.0)
    state = ckpt.on_save_checkpoint(trainer, None, {})
    assert state["dirpath"] == os.path.realpath(tmp_path) and float(state["best_model_score"]) == 1.0
    assert "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'" in ckpt.state_key

    resumed = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=2, filename="{epoch}")
    resumed.setup(trainer, None, "fit")
    resumed.on_load_checkpoint(trainer, None, state)
    resumed.on_train_start(trainer, None)  # no "folder not empty" warning when resuming into it
    epoch_end(resumed, trainer, 2, 3, val_loss=0.5)  # pushes out epoch 0 (2.0), as without the resume
    assert names(tmp_path) == ["epoch=1.ckpt", "epoch=2.ckpt"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"save_top_k": -2}, "save_top_k"),
        ({"save_top_k": 3}, "monitor"),
        ({"mode": "auto"}, "mode"),
        ({"every_n_epochs": -1}, "every_n_epochs"),
        ({"every_n_train_steps": 2, "every_n_epochs": 2}, "mutually exclusive"),
    ],
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(MisconfigurationError, match=match):
        ModelCheckpoint(**kwargs)
