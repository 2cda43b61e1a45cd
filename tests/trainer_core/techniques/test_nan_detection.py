"""terminate_on_nan and detect_anomaly: the run stops with a message naming the step and what went non-finite."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from _techniques_models import BoringModel, trainer


class NanAt(BoringModel):
    """The loss becomes NaN at batch ``bad`` through a differentiable op (so backward sees it too)."""

    def __init__(self, bad: int) -> None:
        super().__init__(batch_size=2, length=16)
        self.bad = bad

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        loss = self.loss(self(batch))
        if batch_idx == self.bad:
            loss = loss * torch.sqrt(torch.tensor(-1.0)) + torch.log(self(batch).sum() * 0 - 1)
        return loss


class NanInSecondEpoch(NanAt):
    def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        self.bad = 3 if self.current_epoch == 1 else -1
        return super().training_step(batch, batch_idx)


def test_terminate_on_nan_names_the_step_and_the_loss() -> None:
    with pytest.raises(ValueError, match=r"loss returned by training_step is nan at epoch 1, batch 3 "
                                         r"\(global_step=12, after this batch's optimizer step\)"):
        trainer(max_epochs=3, terminate_on_nan=True, limit_val_batches=0).fit(NanInSecondEpoch(-1))


def test_terminate_on_nan_while_accumulating_says_no_step_was_taken() -> None:
    # Batches 0-1 make optimizer step 1; batch 2 only accumulates gradients.
    with pytest.raises(ValueError, match=r"is nan at epoch 0, batch 2 \(global_step=1, no optimizer step in this "
                                         r"batch\)"):
        trainer(max_epochs=1, terminate_on_nan=True, limit_val_batches=0, accumulate_grad_batches=2).fit(NanAt(2))


def test_terminate_on_nan_names_a_parameter() -> None:
    class Explode(BoringModel):
        def on_after_backward(self) -> None:
            if self.trainer.batch_idx == 2:
                with torch.no_grad():
                    self.layer.bias.fill_(float("inf"))

    with pytest.raises(ValueError, match=r"parameter `layer.bias` holds nan and/or inf values at epoch 0, batch 2 "
                                         r"\(global_step=3, after this batch's optimizer step\)"):
        trainer(max_epochs=1, terminate_on_nan=True, limit_val_batches=0).fit(Explode(length=8))


def test_without_the_flag_training_goes_on() -> None:
    t = trainer(max_epochs=1, limit_val_batches=0)
    t.fit(NanAt(bad=1))
    assert t.global_step == 8


def test_detect_anomaly_names_the_step() -> None:
    with pytest.raises(RuntimeError, match=r"detect_anomaly: backward produced non-finite values at epoch 0, "
                                           r"batch 2 \(global_step=2; training_step returned 'loss' = nan\)"), \
            pytest.warns(UserWarning):
        trainer(max_epochs=1, detect_anomaly=True, limit_val_batches=0).fit(NanAt(bad=2))
    assert not torch.is_anomaly_enabled()  # switched back off after the run
