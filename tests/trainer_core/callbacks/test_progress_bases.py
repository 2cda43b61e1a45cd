"""ProgressBarBase (1.5 API), TQDMProgressBar (the 1.5 name of our tqdm bar), RichProgressBar and
RichModelSummary."""

from __future__ import annotations

from typing import Any

import pytest

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.callbacks import (
    ModelSummary,
    ProgressBar,
    ProgressBarBase,
    RichModelSummary,
    RichProgressBar,
    TQDMProgressBar,
)

QUIET = dict(logger=False, enable_checkpointing=False, enable_model_summary=False)


class CountingBar(ProgressBarBase):
    """A custom bar as 1.5 users wrote them: counters and totals from the base."""

    def __init__(self) -> None:
        super().__init__()
        self.enabled = True
        self.seen: list[tuple[str, int, Any]] = []

    def disable(self) -> None:
        self.enabled = False

    def enable(self) -> None:
        self.enabled = True

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        self.seen.append(("train", self.train_batch_idx, self.total_train_batches))

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        super().on_validation_batch_end(trainer, pl_module, outputs, batch, batch_idx, dataloader_idx)
        self.seen.append(("val", self.val_batch_idx, self.total_val_batches))


def test_a_custom_bar_replaces_the_default_and_reads_the_base_counters() -> None:
    bar = CountingBar()
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=2, num_sanity_val_steps=0,
                         callbacks=[bar], **QUIET)
    trainer.fit(BoringModel())
    assert trainer.progress_bar_callback is bar and bar.trainer is trainer
    assert not any(isinstance(cb, ProgressBar) for cb in trainer.callbacks)
    assert bar.seen == [("train", 1, 3), ("train", 2, 3), ("train", 3, 3), ("val", 1, 2), ("val", 2, 2)]
    trainer.test(verbose=False)
    assert bar.test_batch_idx == 64 and bar.total_test_batches == 64


def test_tqdm_progress_bar_is_the_15_name_of_the_bar() -> None:
    assert TQDMProgressBar is ProgressBar and issubclass(ProgressBar, ProgressBarBase)
    trainer = pl.Trainer(**QUIET)
    assert isinstance(trainer.progress_bar_callback, TQDMProgressBar)


def test_rich_progress_bar_draws_the_loops(capsys: pytest.CaptureFixture[str]) -> None:
    bar = RichProgressBar(refresh_rate_per_second=5, leave=True)
    trainer = pl.Trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1, callbacks=[bar], **QUIET)
    trainer.fit(BoringModel())
    trainer.test(verbose=False)
    out = capsys.readouterr().out
    assert "Epoch 1" in out and "Testing" in out and "2/2" in out
    assert trainer.progress_bar_callback is bar and bar.progress is None  # stopped at the end
    with pytest.raises(ValueError, match="refresh_rate_per_second"):
        RichProgressBar(refresh_rate_per_second=-1)


def test_rich_model_summary_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    summary = RichModelSummary(max_depth=1)
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0, callbacks=[summary],
                         logger=False, enable_checkpointing=False, enable_progress_bar=False)
    trainer.fit(BoringModel())
    out = capsys.readouterr().out
    assert "layer" in out and "Linear" in out and "Trainable params" in out and "66" in out
    assert sum(isinstance(cb, ModelSummary) for cb in trainer.callbacks) == 1
