"""Truncated back-propagation through time: the 1.x contract (splits, hiddens, split_idx, errors, logging)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from _techniques_models import RecordingLogger, trainer
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.exceptions import MisconfigurationError

T, K, BATCH, FEATURES = 15, 2, 3, 4


class SequenceModel(pl.LightningModule):
    """A GRU over (batch, time, features) with a hidden state carried from split to split."""

    def __init__(self, use_module_attribute: bool = True) -> None:
        super().__init__()
        self.rnn = torch.nn.GRU(FEATURES, 5, batch_first=True)
        self.head = torch.nn.Linear(5, 1)
        if use_module_attribute:
            self.truncated_bptt_steps = K
        self.split_shapes: list[tuple[int, ...]] = []
        self.hiddens_seen: list[Any] = []
        self.split_indices: list[int] = []
        self.epoch_outputs: Any = None

    def training_step(self, batch: Any, batch_idx: int, hiddens: Any) -> Any:
        x, y = batch
        self.split_shapes.append(tuple(x.shape))
        self.hiddens_seen.append(hiddens)
        self.split_indices.append(self.trainer.split_idx)
        out, h = self.rnn(x, hiddens)
        loss = torch.nn.functional.mse_loss(self.head(out), y)
        self.log("loss", loss, on_step=True, on_epoch=True)
        return {"loss": loss, "hiddens": h}

    def training_epoch_end(self, outputs: Any) -> None:
        self.epoch_outputs = outputs

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self) -> DataLoader:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(2 * BATCH, T, FEATURES, generator=gen)
        return DataLoader(TensorDataset(x, x.sum(-1, keepdim=True)), batch_size=BATCH)


def _fit(model: pl.LightningModule, **flags: Any) -> pl.Trainer:
    t = trainer(max_epochs=1, limit_val_batches=0, **flags)
    t.fit(model)
    return t


def test_splits_hiddens_and_split_idx() -> None:
    model = SequenceModel()
    t = _fit(model)
    splits = -(-T // K)
    assert splits == 8
    assert model.split_shapes == ([(BATCH, K, FEATURES)] * 7 + [(BATCH, 1, FEATURES)]) * 2
    assert model.split_indices == list(range(8)) * 2
    assert t.split_idx == T // K
    for i, hiddens in enumerate(model.hiddens_seen):
        if i % splits == 0:
            assert hiddens is None  # a fresh batch starts without a hidden state
        else:
            assert isinstance(hiddens, torch.Tensor)
            assert hiddens.grad_fn is None and not hiddens.requires_grad  # detached by the trainer


def test_every_split_steps_the_optimizer() -> None:
    t = _fit(SequenceModel())
    assert t.global_step == 2 * 8  # decided: global_step counts every optimizer step, so each split counts


def test_hiddens_passed_through_unchanged() -> None:
    class Echo(SequenceModel):
        def training_step(self, batch: Any, batch_idx: int, hiddens: Any) -> Any:
            out = super().training_step(batch, batch_idx, hiddens)
            out["hiddens"] = {"h": out["hiddens"], "split": torch.tensor(float(self.trainer.split_idx))}
            return out

        def on_train_batch_start(self, batch: Any, batch_idx: int, dataloader_idx: int) -> None:
            pass

    class Unwrap(Echo):
        def training_step(self, batch: Any, batch_idx: int, hiddens: Any) -> Any:
            h = hiddens["h"] if hiddens is not None else None
            if hiddens is not None:
                assert hiddens["split"].item() == self.trainer.split_idx - 1
            return Echo.training_step(self, batch, batch_idx, h)

    model = Unwrap()
    _fit(model)
    assert sum(h is None for h in model.hiddens_seen) == 2


def test_trainer_flag_works_too() -> None:
    model = SequenceModel(use_module_attribute=False)
    t = _fit(model, truncated_bptt_steps=K)
    assert len(model.split_shapes) == 16 and t.split_idx == 7


def test_epoch_outputs_are_nested_per_split_without_hiddens() -> None:
    model = SequenceModel()
    _fit(model)
    assert len(model.epoch_outputs) == 2 and all(len(batch) == 8 for batch in model.epoch_outputs)
    first = model.epoch_outputs[0][0]
    assert set(first) == {"loss"} and first["loss"].grad_fn is None


def test_logging_gives_step_and_epoch_keys() -> None:
    logger = RecordingLogger()
    t = _fit(SequenceModel(), logger=logger, log_every_n_steps=1)
    assert set(t.logged_metrics) - {"epoch"} == {"loss_step", "loss_epoch"}
    assert {"loss_step", "loss_epoch"} <= set(t.callback_metrics)


def test_missing_hiddens_argument_is_a_clear_error() -> None:
    class NoHiddens(SequenceModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:  # type: ignore[override]
            return super().training_step(batch, batch_idx, None)

    with pytest.raises(MisconfigurationError, match="hiddens"):
        _fit(NoHiddens())


def test_tbptt_split_batch_is_overridable() -> None:
    class ThreeChunks(SequenceModel):
        def tbptt_split_batch(self, batch: Any, split_size: int) -> list[Any]:
            assert split_size == K
            x, y = batch
            return [[x[:, i:i + 5], y[:, i:i + 5]] for i in range(0, T, 5)]

    model = ThreeChunks()
    _fit(model)
    assert model.split_shapes == [(BATCH, 5, FEATURES)] * 6


def test_ambiguous_time_dimension() -> None:
    from trainer_core.trainer.tbptt import split_batch

    with pytest.raises(MisconfigurationError, match="ambiguous"):
        split_batch([torch.zeros(2, 5, 1), torch.zeros(2, 6, 1)], 2)
    chunks = split_batch([torch.zeros(2, 5, 1), [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], "meta"], 2)
    assert [c[1] for c in chunks] == [[[1, 2], [6, 7]], [[3, 4], [8, 9]], [[5], [10]]]
    assert all(c[2] == "meta" for c in chunks)
