"""LambdaCallback and BasePredictionWriter (1.x names and arguments)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, RandomDataset
from trainer_core.callbacks import BasePredictionWriter, LambdaCallback
from trainer_core.exceptions import MisconfigurationError

QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)


def test_lambda_callback_calls_each_given_function_with_the_hook_arguments() -> None:
    calls: list[Any] = []
    callback = LambdaCallback(
        on_fit_start=lambda trainer, module: calls.append(("fit_start", type(module).__name__)),
        on_train_batch_end=lambda trainer, module, outputs, batch, batch_idx, *rest: calls.append(batch_idx),
        setup=lambda trainer, module, stage: calls.append(("setup", stage)),
        on_train_end=None,
    )
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=0, callbacks=[callback], **QUIET)
    trainer.fit(BoringModel())
    assert calls == [("setup", "fit"), ("fit_start", "BoringModel"), 0, 1, 2]
    assert "on_train_end" not in vars(callback)


def test_lambda_callback_refuses_a_misspelled_hook() -> None:
    with pytest.raises(MisconfigurationError, match="Did you mean `on_train_epoch_end`"):
        LambdaCallback(on_train_epoch_ends=print)


class Writer(BasePredictionWriter):
    def __init__(self, write_interval: str) -> None:
        super().__init__(write_interval)
        self.batches: list[tuple[list[int] | None, int, tuple[int, ...]]] = []
        self.epochs: list[tuple[int, Any]] = []

    def write_on_batch_end(self, trainer: Any, pl_module: Any, prediction: Any, batch_indices: Any, batch: Any,
                           batch_idx: int, dataloader_idx: int) -> None:
        self.batches.append((batch_indices, batch_idx, tuple(prediction.shape)))

    def write_on_epoch_end(self, trainer: Any, pl_module: Any, predictions: list[Any], batch_indices: Any) -> None:
        self.epochs.append((len(predictions[0]), batch_indices))


@pytest.mark.parametrize(("interval", "batches", "epochs"), [("batch", 3, 0), ("epoch", 0, 1),
                                                               ("batch_and_epoch", 3, 1)])
def test_prediction_writer_intervals(interval: str, batches: int, epochs: int) -> None:
    writer = Writer(interval)
    trainer = pl.Trainer(callbacks=[writer], **QUIET)
    loader = DataLoader(RandomDataset(32, 10), batch_size=4)
    trainer.predict(BoringModel(), dataloaders=loader)
    assert len(writer.batches) == batches and len(writer.epochs) == epochs
    if batches:
        assert writer.batches[0] == ([0, 1, 2, 3], 0, (4, 2)) and writer.batches[2][0] == [8, 9]
    if epochs:
        assert writer.epochs[0] == (3, [[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]])


def test_prediction_writer_needs_a_known_interval() -> None:
    with pytest.raises(MisconfigurationError, match="write_interval='step'"):
        Writer("step")


def test_shuffled_predict_loader_gives_no_indices() -> None:
    writer = Writer("batch")
    loader = DataLoader(RandomDataset(32, 8), batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(0))
    pl.Trainer(callbacks=[writer], **QUIET).predict(BoringModel(), dataloaders=loader)
    assert [indices for indices, _, _ in writer.batches] == [None, None]
