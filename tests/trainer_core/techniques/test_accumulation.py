"""accumulate_grad_batches: int and dict schedules, the loss divided by k, steps on window ends and the last batch."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from _techniques_models import BoringModel, trainer

from trainer_core.callbacks import GradientAccumulationScheduler
from trainer_core.exceptions import MisconfigurationError


class CountingSGD(torch.optim.SGD):
    zero_grad_calls = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        type(self).zero_grad_calls += 1
        super().zero_grad(set_to_none=set_to_none)


class ZeroGradCounter(BoringModel):
    def configure_optimizers(self) -> Any:
        CountingSGD.zero_grad_calls = 0
        return CountingSGD(self.parameters(), lr=0.1)


@pytest.mark.parametrize(("schedule", "expected"), [({1: 2, 3: 4}, 10 + 5 + 5 + 3), ({0: 2, 2: 1}, 5 + 5 + 10 + 10)])
def test_dict_schedule_zero_grad_counts(schedule: dict[int, int], expected: int) -> None:
    model = ZeroGradCounter(length=10)
    trainer(max_epochs=4, accumulate_grad_batches=schedule, limit_val_batches=0).fit(model)
    assert CountingSGD.zero_grad_calls == expected


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_int_zero_grad_counts(k: int) -> None:
    model = ZeroGradCounter(length=20)
    t = trainer(max_epochs=1, accumulate_grad_batches=k, limit_val_batches=0)
    t.fit(model)
    assert CountingSGD.zero_grad_calls == math.ceil(20 / k)
    assert t.global_step == math.ceil(20 / k)


def test_weights_change_on_window_ends_and_last_batch() -> None:
    class Watch(BoringModel):
        def __init__(self) -> None:
            super().__init__(length=10)
            self.changed: list[int] = []

        def on_train_batch_start(self, batch: Any, batch_idx: int, dataloader_idx: int) -> None:
            self._before = self.layer.weight.detach().clone()

        def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int) -> None:
            if not torch.equal(self._before, self.layer.weight):
                self.changed.append(batch_idx)

    model = Watch()
    trainer(max_epochs=1, accumulate_grad_batches=3, limit_val_batches=0).fit(model)
    assert model.changed == [2, 5, 8, 9]


def test_loss_divided_by_k_and_gradient_is_the_mean() -> None:
    """Two micro-batches of 1 sample accumulate to the gradient of one batch of 2 (MSE is a mean)."""

    class Grab(BoringModel):
        def __init__(self, batch_size: int) -> None:
            super().__init__(batch_size=batch_size, length=4)
            self.losses: list[float] = []
            self.backward_losses: list[float] = []
            self.grads: list[torch.Tensor] = []

        def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
            loss = self.loss(self(batch))
            self.losses.append(loss.item())
            return loss

        def on_before_backward(self, loss: torch.Tensor) -> None:
            self.backward_losses.append(loss.item())

        def on_before_optimizer_step(self, optimizer: Any, optimizer_idx: int) -> None:
            self.grads.append(self.layer.weight.grad.clone())

    torch.manual_seed(0)
    accumulated = Grab(batch_size=1)
    whole = Grab(batch_size=2)
    whole.load_state_dict(accumulated.state_dict())
    trainer(max_steps=1, accumulate_grad_batches=2, limit_val_batches=0).fit(accumulated)
    trainer(max_steps=1, limit_val_batches=0).fit(whole)
    assert accumulated.backward_losses == pytest.approx([v / 2 for v in accumulated.losses])
    assert whole.backward_losses == pytest.approx(whole.losses)
    assert len(accumulated.grads) == len(whole.grads) == 1
    torch.testing.assert_close(accumulated.grads[0], whole.grads[0])


def test_scheduler_factors_follow_epochs() -> None:
    seen: list[int] = []

    class Record(BoringModel):
        def on_train_epoch_end(self) -> None:
            seen.append(self.trainer.accumulate_grad_batches)

    trainer(max_epochs=5, accumulate_grad_batches={1: 2, 3: 4}, limit_train_batches=2,
            limit_val_batches=0).fit(Record())
    assert seen == [1, 2, 2, 4, 4]


@pytest.mark.parametrize("bad", [{}, {1.5: 2}, {1: 2.0}, {"a": 2}, {-1: 3}, {1: 0}, 0, 2.5, "two", [1, 2]])
def test_bad_values_are_rejected_by_the_trainer(bad: Any) -> None:
    with pytest.raises(MisconfigurationError, match="accumulate_grad_batches"):
        trainer(accumulate_grad_batches=bad)


@pytest.mark.parametrize(("bad", "error"), [({}, TypeError), ({1.0: 2}, TypeError), ({1: 2.5}, TypeError),
                                            ({-1: 3}, IndexError), ({1: 0}, ValueError)])
def test_bad_schedules_are_rejected_by_the_callback(bad: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        GradientAccumulationScheduler(bad)


def test_dict_and_callback_together_is_an_error() -> None:
    with pytest.raises(MisconfigurationError, match="GradientAccumulationScheduler"):
        trainer(accumulate_grad_batches={1: 2}, callbacks=[GradientAccumulationScheduler({2: 2})])


def test_manual_optimization_rejects_accumulation() -> None:
    class Manual(BoringModel):
        def __init__(self) -> None:
            super().__init__(length=4)
            self.automatic_optimization = False

        def training_step(self, batch: torch.Tensor, batch_idx: int) -> None:
            opt = self.optimizers()
            opt.zero_grad()
            self.manual_backward(self.loss(self(batch)))
            opt.step()

    with pytest.raises(MisconfigurationError, match="manual optimization"):
        trainer(max_epochs=1, accumulate_grad_batches=2).fit(Manual())


def test_backward_sync_is_blocked_on_non_final_micro_batches() -> None:
    """Under DDP, the all-reduce is skipped (``no_sync``) except on the batch that ends a window."""
    t = trainer(max_epochs=1, accumulate_grad_batches=3, limit_val_batches=0)
    blocked: list[int] = []
    backward_batches: list[int] = []

    class Probe(BoringModel):
        def on_after_backward(self) -> None:
            backward_batches.append(self.trainer.batch_idx)

    original = t.strategy.block_backward_sync

    def counting(model: Any) -> Any:
        blocked.append(t.batch_idx)
        return original(model)

    t.strategy.block_backward_sync = counting  # type: ignore[method-assign]
    t.fit(Probe(length=10))
    assert backward_batches == list(range(10))
    assert blocked == [0, 1, 3, 4, 6, 7]  # windows end at 2, 5, 8; batch 9 is the epoch's last
