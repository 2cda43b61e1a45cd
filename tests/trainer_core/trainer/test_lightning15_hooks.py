"""Lightning 1.5 hook behaviour: signatures without dataloader_idx, hooks resolved on the instance, the closure
inside ``optimizer.step``, and ``on_init_start/end`` called with the trainer only."""

from __future__ import annotations

import functools
from typing import Any

import pytest
import torch

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core.exceptions import MisconfigurationError


def test_train_batch_hooks_written_without_dataloader_idx_are_called_without_it() -> None:
    seen: list[tuple[str, int]] = []

    class Model(BoringModel):
        def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
            seen.append(("M.start", batch_idx))

        def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
            seen.append(("M.end", batch_idx))

    class Callback(pl.Callback):
        def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int) -> None:
            seen.append(("Cb.start", batch_idx))

        def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
            seen.append(("Cb.end", batch_idx))

    quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, callbacks=[Callback()]).fit(
        Model(batch_size=4))
    assert seen == [("Cb.start", 0), ("M.start", 0), ("Cb.end", 0), ("M.end", 0),
                    ("Cb.start", 1), ("M.start", 1), ("Cb.end", 1), ("M.end", 1)]


def test_train_batch_hooks_with_dataloader_idx_still_get_it() -> None:
    seen: list[int] = []

    class Model(BoringModel):
        def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int) -> None:
            seen.append(dataloader_idx)

    quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0).fit(Model(batch_size=4))
    assert seen == [0, 0]


def test_validation_step_set_to_none_on_the_instance_turns_validation_off() -> None:
    model = BoringModel(batch_size=4)
    model.validation_step = None
    calls: list[str] = []

    class Watch(pl.Callback):
        def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
            calls.append("val")

    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, callbacks=[Watch()])
    trainer.fit(model)
    assert calls == [] and trainer.global_step == 2


def test_training_step_end_set_to_none_on_the_instance_is_not_called() -> None:
    class Model(BoringModel):
        def training_step_end(self, output: Any) -> Any:
            raise AssertionError("turned off on the instance")

    model = Model(batch_size=4)
    model.training_step_end = None
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.global_step == 2


def test_a_function_assigned_to_a_hook_on_the_instance_is_called() -> None:
    model = BoringModel(batch_size=4)
    seen: list[int] = []
    model.on_train_batch_end = lambda outputs, batch, batch_idx, dataloader_idx: seen.append(batch_idx)
    quiet_trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=0).fit(model)
    assert seen == [0, 1, 2]


def test_on_init_hooks_receive_the_trainer_only() -> None:
    seen: list[Any] = []

    class Init(pl.Callback):
        def on_init_start(self, trainer: Any) -> None:
            seen.append(("start", trainer))

        def on_init_end(self, trainer: Any) -> None:
            seen.append(("end", trainer))

    trainer = quiet_trainer(callbacks=[Init()])
    assert seen == [("start", trainer), ("end", trainer)]


def test_training_step_runs_inside_optimizer_step() -> None:
    order: list[str] = []

    class Model(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            order.append("training_step")
            return super().training_step(batch, batch_idx)

        def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_idx: int = 0,
                           optimizer_closure: Any = None, **kwargs: Any) -> None:
            order.append("optimizer_step:enter")
            optimizer.step(closure=optimizer_closure)
            order.append("optimizer_step:exit")

    quiet_trainer(max_steps=1, limit_val_batches=0).fit(Model(batch_size=4))
    assert order == ["optimizer_step:enter", "training_step", "optimizer_step:exit"]


def test_an_optimizer_that_evaluates_its_closure_gets_the_real_closure() -> None:
    """A SAM-style optimizer calls the closure twice per step: training_step and backward run twice."""

    class TwoEvaluations(torch.optim.SGD):
        def step(self, closure: Any = None) -> Any:
            assert closure is not None
            closure()
            with torch.enable_grad():
                loss = closure()
            super().step()
            return loss

    counts = {"training_step": 0, "backward": 0}

    class Model(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            counts["training_step"] += 1
            return super().training_step(batch, batch_idx)

        def backward(self, loss: torch.Tensor, optimizer: Any, optimizer_idx: Any, *args: Any, **kw: Any) -> None:
            counts["backward"] += 1
            super().backward(loss, optimizer, optimizer_idx, *args, **kw)

        def configure_optimizers(self) -> Any:
            return TwoEvaluations(self.parameters(), lr=0.1)

    trainer = quiet_trainer(max_steps=3, limit_val_batches=0)
    trainer.fit(Model(batch_size=4))
    assert counts == {"training_step": 6, "backward": 6} and trainer.global_step == 3


def test_lbfgs_evaluates_the_closure_and_trains() -> None:
    calls = []

    class Model(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            calls.append(batch_idx)
            return super().training_step(batch, batch_idx)

        def configure_optimizers(self) -> Any:
            return torch.optim.LBFGS(self.parameters(), lr=0.1, max_iter=4)

    model = Model(batch_size=16)
    trainer = quiet_trainer(max_steps=1, limit_val_batches=0)
    trainer.fit(model)
    assert len(calls) > 1 and set(calls) == {0}  # several evaluations of batch 0's closure in one step


def test_optimizer_step_that_never_runs_the_closure_is_an_error() -> None:
    class Model(BoringModel):
        def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
            pass  # neither optimizer.step(closure=...) nor the closure

    with pytest.raises(MisconfigurationError, match="closure hasn't been executed"):
        quiet_trainer(max_steps=1, limit_val_batches=0).fit(Model(batch_size=4))


def test_hooks_defined_by_other_callables_on_the_class_are_called() -> None:
    seen: list[str] = []

    def record(self: Any, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int) -> None:
        seen.append(f"end {batch_idx}")

    class Model(BoringModel):
        on_train_batch_end = functools.partialmethod(record)

        @staticmethod
        def on_train_epoch_start() -> None:
            seen.append("epoch")

    quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0).fit(Model(batch_size=4))
    assert seen == ["epoch", "end 0", "end 1"]
