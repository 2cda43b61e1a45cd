"""Checkpoint contents, atomic writes, safe loading and exact resume (1.5's keys, our counters)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core.callbacks import ModelCheckpoint
from trainer_core.trainer.checkpoint_io import CheckpointError, load_checkpoint_file, save_checkpoint_file


class Adam(BoringModel):
    def __init__(self, lr: float = 0.05, batch_size: int = 8) -> None:
        super().__init__(batch_size=batch_size)
        self.save_hyperparameters()
        self.dropout = torch.nn.Dropout(0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(self.dropout(x))

    def configure_optimizers(self) -> Any:
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)}

    def train_dataloader(self) -> Any:
        from torch.utils.data import DataLoader

        from tests.helpers.boring_model import RandomDataset

        return DataLoader(RandomDataset(32, 64), batch_size=self.batch_size, shuffle=True)


def test_checkpoint_holds_true_counters_and_state(tmp_path: Path) -> None:
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, default_root_dir=tmp_path,
                            enable_checkpointing=True)
    trainer.fit(Adam())
    files = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert files == ["epoch=0-step=2.ckpt"]
    ckpt = load_checkpoint_file(tmp_path / "checkpoints" / files[0])
    assert ckpt["epoch"] == 0 and ckpt["global_step"] == 2
    assert ckpt["trainer_core_version"] == pl.__version__
    assert ckpt["hyper_parameters"] == {"lr": 0.05, "batch_size": 8}
    assert len(ckpt["optimizer_states"]) == 1 and len(ckpt["lr_schedulers"]) == 1
    assert any(key.startswith("ModelCheckpoint") for key in ckpt["callbacks"])


def _fit(tmp_path: Path, max_epochs: int, ckpt_path: str | None = None, **flags: Any) -> tuple[Any, Adam]:
    pl.seed_everything(3)
    model = Adam()
    trainer = quiet_trainer(max_epochs=max_epochs, limit_val_batches=0, default_root_dir=tmp_path, **flags)
    trainer.fit(model, ckpt_path=ckpt_path)
    return trainer, model


def test_resume_from_end_of_epoch_gives_identical_weights(tmp_path: Path) -> None:
    _, straight = _fit(tmp_path / "a", 3)
    first, _ = _fit(tmp_path / "b", 1)
    path = str(tmp_path / "b" / "mid.ckpt")
    first.save_checkpoint(path)
    resumed_trainer, resumed = _fit(tmp_path / "c", 3, ckpt_path=path)
    assert resumed_trainer.current_epoch == 3 and resumed_trainer.global_step == 24
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)
    assert resumed_trainer.lr_schedulers[0]["scheduler"].get_last_lr() == pytest.approx([0.05 / 8])


def test_resume_mid_epoch_gives_identical_weights(tmp_path: Path) -> None:
    _, straight = _fit(tmp_path / "a", 2)
    ckpt_cb = ModelCheckpoint(dirpath=tmp_path / "b", every_n_train_steps=3, save_top_k=-1)
    _fit(tmp_path / "b", 2, enable_checkpointing=True, callbacks=[ckpt_cb], max_steps=11)
    path = str(tmp_path / "b" / "epoch=1-step=9.ckpt")
    assert os.path.exists(path)
    resumed_trainer, resumed = _fit(tmp_path / "c", 2, ckpt_path=path)
    assert resumed_trainer.global_step == 16
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_resume_order_callback_state_and_counters_before_on_fit_start_optimizer_state_after(tmp_path: Path) -> None:
    seen: list[tuple[str, Any]] = []

    class Watch(pl.Callback):
        def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
            seen.append(("on_load_checkpoint", trainer.current_epoch))

        def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any]:
            return {"saved": True}

        def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
            # loop counters are back, the optimizer state (Adam's moments) and the scheduler's are not yet
            seen.append(("on_fit_start", (trainer.current_epoch, len(trainer.optimizers[0].state),
                                          trainer.lr_schedulers[0]["scheduler"].last_epoch)))

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            seen.append(("on_train_start", (len(trainer.optimizers[0].state),
                                            trainer.lr_schedulers[0]["scheduler"].last_epoch)))

    first, _ = _fit(tmp_path / "a", 1, callbacks=[Watch()])
    path = str(tmp_path / "a" / "one.ckpt")
    first.save_checkpoint(path)
    seen.clear()
    _fit(tmp_path / "b", 2, callbacks=[Watch()], ckpt_path=path)
    assert seen == [("on_load_checkpoint", 0), ("on_fit_start", (1, 0, 0)), ("on_train_start", (2, 1))]


def test_weights_only_checkpoint_cannot_resume(tmp_path: Path) -> None:
    trainer, _ = _fit(tmp_path, 1)
    path = str(tmp_path / "w.ckpt")
    trainer.save_checkpoint(path, weights_only=True)
    with pytest.raises(pl.MisconfigurationError, match="weights only"):
        _fit(tmp_path, 2, ckpt_path=path)


def test_atomic_save_keeps_previous_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.ckpt"
    save_checkpoint_file({"state_dict": {"w": torch.ones(2)}}, path)

    def explode(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", explode)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint_file({"state_dict": {"w": torch.zeros(2)}}, path)
    monkeypatch.undo()
    assert torch.equal(load_checkpoint_file(path)["state_dict"]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"]


def test_corrupt_truncated_foreign_and_unsafe_checkpoints(tmp_path: Path) -> None:
    good = tmp_path / "good.ckpt"
    save_checkpoint_file({"state_dict": {"w": torch.ones(2)}}, good)
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[:50])
    with pytest.raises(CheckpointError, match="corrupt, truncated"):
        load_checkpoint_file(truncated)
    empty = tmp_path / "empty.ckpt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint_file(empty)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.ones(1)}, foreign)
    with pytest.raises(CheckpointError, match="not a trainer checkpoint"):
        load_checkpoint_file(foreign)
    unsafe = tmp_path / "unsafe.ckpt"
    torch.save({"state_dict": {}, "obj": Path("x")}, unsafe)
    with pytest.raises(CheckpointError, match="trust"):
        load_checkpoint_file(unsafe)
    assert load_checkpoint_file(unsafe, trust=True)["obj"] == Path("x")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint_file(tmp_path / "missing.ckpt")


def test_test_with_best_checkpoint(tmp_path: Path) -> None:
    class Monitored(Adam):
        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("val_loss", self.loss(self(batch)))

    checkpoint = ModelCheckpoint(dirpath=tmp_path, monitor="val_loss", save_top_k=1)
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=2, callbacks=[checkpoint],
                            enable_checkpointing=True)
    model = Monitored()
    trainer.fit(model)
    assert checkpoint.best_model_path
    result = trainer.test(ckpt_path="best", verbose=False)
    assert "test_loss" in result[0]
    with pytest.raises(pl.MisconfigurationError, match="fast_dev_run"):
        fast = quiet_trainer(fast_dev_run=True)
        fast.fit(Monitored())
        fast.test(ckpt_path="best")


def test_load_from_checkpoint_rebuilds_with_hparams(tmp_path: Path) -> None:
    trainer, model = _fit(tmp_path, 1)
    path = tmp_path / "m.ckpt"
    trainer.save_checkpoint(path)
    loaded = Adam.load_from_checkpoint(str(path))
    assert loaded.hparams.lr == 0.05
    assert torch.equal(loaded.layer.weight, model.layer.weight)


def test_fast_dev_run_writes_no_files(tmp_path: Path) -> None:
    trainer = pl.Trainer(fast_dev_run=2, default_root_dir=tmp_path, enable_progress_bar=False)
    model = BoringModel()
    trainer.fit(model)
    assert trainer.global_step == 2
    assert list(tmp_path.iterdir()) == []


def test_untrusted_checkpoint_is_refused_until_the_trainer_trusts_it(tmp_path: Path) -> None:
    trainer, _ = _fit(tmp_path / "a", 1)
    path = tmp_path / "with-object.ckpt"
    checkpoint = torch.load(_save(trainer, tmp_path / "plain.ckpt"), weights_only=True)
    checkpoint["note"] = Path("needs full unpickling")
    torch.save(checkpoint, path)
    refusing = quiet_trainer(max_epochs=2, limit_val_batches=0)
    with pytest.raises(CheckpointError, match="trust_checkpoint"):
        refusing.fit(Adam(), ckpt_path=str(path))
    trusting = quiet_trainer(max_epochs=2, limit_val_batches=0)
    trusting.trust_checkpoint = True
    trusting.fit(Adam(), ckpt_path=str(path))
    assert trusting.global_step == 16


def _save(trainer: Any, path: Path) -> Path:
    trainer.save_checkpoint(str(path))
    return path
