"""The training step's own Python work stays small: calls to engine functions per step, counted (not timed).

A count does not move with the machine's load, so it can guard the hot path in CI where a timing cannot: every
function the loop starts calling per step (a hook lookup, a context manager, a property) shows here.
"""

from __future__ import annotations

import cProfile
import os
import pstats
from typing import Any

import torch

import trainer_core
from tests.helpers.boring_model import quiet_trainer
from trainer_core import LightningModule

# Engine function calls per training step (one optimizer, no validation, no logger/progress bar/checkpointing)
# measured at 41 and 46 when this test was written (49 and 55 before the per-step clean-up); 3 calls of headroom so
# a small, justified addition does not fail it.
_BUDGET_PLAIN = 44
_BUDGET_LOGGING = 49  # the same with one self.log("loss", loss) per step


class _Regression(LightningModule):
    def __init__(self, log_loss: bool) -> None:
        super().__init__()
        self.net = torch.nn.Linear(4, 1)
        self.log_loss = log_loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        if self.log_loss:
            self.log("loss", loss)
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.01)


class _Batches:
    """Ready batches behind a plain iterable (a list would be searched for samplers batch by batch)."""

    def __init__(self, steps: int) -> None:
        gen = torch.Generator().manual_seed(0)
        self.batches = [(torch.randn(2, 4, generator=gen), torch.randn(2, 1, generator=gen)) for _ in range(steps)]

    def __iter__(self) -> Any:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


def _engine_calls(steps: int, log_loss: bool) -> int:
    batches = _Batches(steps)
    trainer = quiet_trainer(max_epochs=1, num_sanity_val_steps=0, limit_val_batches=0)
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.fit(_Regression(log_loss), train_dataloaders=batches)
    profiler.disable()
    assert trainer.global_step == steps
    package = os.path.dirname(trainer_core.__file__) + os.sep
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return sum(calls for (path, _, _), (_, calls, *_) in stats.items() if path.startswith(package))


def _calls_per_step(log_loss: bool) -> float:
    _engine_calls(5, log_loss)  # warm-up: per-class caches, lazy imports
    return (_engine_calls(60, log_loss) - _engine_calls(20, log_loss)) / 40


def test_a_plain_step_calls_few_engine_functions() -> None:
    per_step = _calls_per_step(log_loss=False)
    assert per_step <= _BUDGET_PLAIN, (
        f"{per_step:.1f} engine function calls per training step (budget {_BUDGET_PLAIN}): something new runs per "
        "step; decide it once per fit or epoch (FitRun), or skip it when the feature is unused "
        "(python -m benchmarks.profile_step --model linear lists the calls)")


def test_a_step_that_logs_its_loss_calls_few_engine_functions() -> None:
    per_step = _calls_per_step(log_loss=True)
    assert per_step <= _BUDGET_LOGGING, (
        f"{per_step:.1f} engine function calls per training step with one self.log (budget {_BUDGET_LOGGING}): "
        "python -m benchmarks.profile_step --model linear --config 'all on' lists the calls")
