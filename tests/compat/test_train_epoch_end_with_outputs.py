"""1.2/1.3 code writes ``on_train_epoch_end(self, trainer, pl_module, outputs)`` in callbacks and
``on_train_epoch_end(self, outputs)`` in modules; 1.4 and 1.5 still passed the epoch's training outputs to those
signatures (with a deprecation). Found with a real DQN project's callback ("missing 1 required positional argument:
'outputs'" before)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, quiet_trainer


class _OldStyleCallback(pl.Callback):
    def __init__(self) -> None:
        self.received: list[Any] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any) -> None:
        self.received.append(outputs)


class _NewStyleCallback(pl.Callback):
    def __init__(self) -> None:
        self.calls = 0

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.calls += 1


class _OldStyleModule(BoringModel):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[Any] = []

    def on_train_epoch_end(self, outputs: Any) -> None:
        self.received.append(outputs)


def test_callback_and_module_with_outputs_get_the_epoch_outputs() -> None:
    old, new = _OldStyleCallback(), _NewStyleCallback()
    model = _OldStyleModule()
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=1, callbacks=[old, new])
    with pytest.deprecated_call(match="outputs"):
        trainer.fit(model)
    assert new.calls == 2
    assert len(old.received) == 2 and len(model.received) == 2
    for outputs in old.received + model.received:
        assert len(outputs) == 3
        assert all(isinstance(step["loss"], torch.Tensor) for step in outputs)


def test_plain_hooks_collect_no_outputs() -> None:
    new = _NewStyleCallback()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, callbacks=[new])
    trainer.fit(BoringModel())
    assert new.calls == 1
    assert not trainer._hooks.wants_train_epoch_outputs()
    assert not hasattr(trainer, "_train_epoch_outputs")
