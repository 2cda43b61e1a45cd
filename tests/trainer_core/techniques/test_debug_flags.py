"""fast_dev_run and overfit_batches: Lightning 1.5's call counts, no files, sequential data, eval on train copies."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from _techniques_models import BoringModel, RandomDataset
from torch.utils.data import DataLoader

import trainer_core as pl
from trainer_core.callbacks import EarlyStopping, ModelCheckpoint
from trainer_core.exceptions import MisconfigurationError


class Counting(BoringModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counts = {"training_step": 0, "training_epoch_end": 0, "validation_step": 0,
                       "validation_epoch_end": 0, "test_step": 0}
        self.val_batches: list[torch.Tensor] = []
        self.test_batches: list[torch.Tensor] = []
        self.train_batches: list[torch.Tensor] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        self.counts["training_step"] += 1
        self.train_batches.append(batch.clone())
        return super().training_step(batch, batch_idx)

    def training_epoch_end(self, outputs: Any) -> None:
        self.counts["training_epoch_end"] += 1

    def validation_step(self, batch: torch.Tensor, batch_idx: int, dataloader_idx: int = 0) -> Any:
        self.counts["validation_step"] += 1
        self.val_batches.append(batch.clone())
        out = super().validation_step(batch, batch_idx)
        self.log("val_loss", out["x"])
        return out

    def validation_epoch_end(self, outputs: Any) -> None:
        self.counts["validation_epoch_end"] += 1

    def test_step(self, batch: torch.Tensor, batch_idx: int, dataloader_idx: int = 0) -> Any:
        self.counts["test_step"] += 1
        self.test_batches.append(batch.clone())
        return super().test_step(batch, batch_idx)


@pytest.mark.parametrize("value", [True, 1, 4])
def test_fast_dev_run_counts_and_writes_nothing(tmp_path: Path, value: Any, caplog: Any) -> None:
    n = int(value)
    model = Counting(batch_size=2, length=16)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpts", save_last=True)
    stopper = EarlyStopping(monitor="val_loss", patience=0)
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        t = pl.Trainer(default_root_dir=tmp_path, fast_dev_run=value, val_check_interval=2, max_epochs=5,
                       callbacks=[checkpoint, stopper], enable_progress_bar=False)
        t.fit(model)
    t.test(model, verbose=False)
    assert model.counts == {"training_step": n, "training_epoch_end": 1, "validation_step": n,
                            "validation_epoch_end": 1, "test_step": n}
    assert t.global_step == n and t.max_epochs == 1 and t.num_sanity_val_steps == 0
    assert list(tmp_path.iterdir()) == []  # no logs, no checkpoints, not even last.ckpt
    assert checkpoint.best_model_path == "" and stopper.wait_count == 0
    assert "fast_dev_run" in caplog.text
    with pytest.raises(MisconfigurationError, match="fast_dev_run"):
        t.test(model, ckpt_path="best", verbose=False)


def test_fast_dev_run_skips_tuners(caplog: Any) -> None:
    model = Counting(batch_size=2, length=16)
    t = pl.Trainer(fast_dev_run=True, auto_lr_find=True, auto_scale_batch_size=True, enable_progress_bar=False)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.INFO, logger="trainer_core"):
        warnings.simplefilter("always")
        t.tune(model)
    said = caplog.text + " ".join(str(w.message) for w in caught)
    assert "fast_dev_run" in said
    assert model.counts["training_step"] == 0 and model.lr == 0.1 and model.batch_size == 2


@pytest.mark.parametrize("bad", [-1, 1.5, "yes"])
def test_fast_dev_run_bad_values(bad: Any) -> None:
    with pytest.raises(MisconfigurationError, match="fast_dev_run"):
        pl.Trainer(fast_dev_run=bad)


class ShuffledCounting(Counting):
    def train_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length), batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> list[DataLoader]:
        return [DataLoader(RandomDataset(32, self.length, seed=5), batch_size=self.batch_size)] * 2


def test_overfit_batches_sequential_and_eval_on_train_copies() -> None:
    model = ShuffledCounting(batch_size=2, length=16)
    dataset = RandomDataset(32, 16)
    first = [dataset.data[0:2], dataset.data[2:4], dataset.data[4:6]]
    t = pl.Trainer(overfit_batches=3, max_epochs=2, logger=False, enable_checkpointing=False,
                   enable_progress_bar=False, enable_model_summary=False)
    with pytest.warns(UserWarning, match="overfit"):
        t.fit(model)
    assert t.num_training_batches == 3 and t.num_val_batches == [3, 3]
    for seen in (model.train_batches[:3], model.train_batches[3:]):
        assert all(torch.equal(a, b) for a, b in zip(seen, first, strict=True))
    # sanity check (2 batches per loader) + 2 epochs x 2 loaders x 3 batches, all copies of the train batches
    assert len(model.val_batches) == 2 * 2 + 2 * 2 * 3
    for batch in model.val_batches:
        assert any(torch.equal(batch, b) for b in first)
    t.test(model, verbose=False)
    assert len(model.test_batches) == 3
    assert all(torch.equal(a, b) for a, b in zip(model.test_batches, first, strict=True))


def test_overfit_batches_fraction() -> None:
    model = Counting(batch_size=2, length=16)
    t = pl.Trainer(overfit_batches=0.25, max_epochs=1, logger=False, enable_checkpointing=False,
                   enable_progress_bar=False, num_sanity_val_steps=0)
    t.fit(model)
    assert t.num_training_batches == 2 and model.counts["training_step"] == 2
    assert t.num_val_batches == [2]


def test_overfit_one_batch_drives_the_loss_to_zero() -> None:
    class Fit(BoringModel):
        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=0.05)

        def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
            loss = self.loss(self(batch))
            self.log("train_loss", loss, on_epoch=True, on_step=False)
            return loss

    pl.seed_everything(0)
    model = Fit(batch_size=4, length=64)
    t = pl.Trainer(overfit_batches=1, max_epochs=150, limit_val_batches=0, logger=False,
                   enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    t.fit(model)
    assert t.callback_metrics["train_loss"].item() < 1e-4
