"""The training step's own Python work stays small: calls to engine functions per step, counted (not timed).

A count does not move with the machine's load, so it can guard the hot path in CI where a timing cannot: every
function the loop starts calling per step (a hook lookup, a context manager, a property) shows here.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import time
from pathlib import Path
from typing import Any

import pytest
import torch

import trainer_core
from tests.helpers.boring_model import quiet_trainer
from trainer_core import LightningModule

# Engine function calls per training step (one optimizer, no validation, no logger/progress bar/checkpointing):
# 49 and 55 before the first per-step clean-up, 41 and 46 after it, 39.1 and 41.1 after the second (no call for the
# callback-only batch hooks nobody implements; a repeated per-step self.log goes straight to its metric). The
# budgets sit under the count the removed work would bring back, so it fails when that work returns.
_BUDGET_PLAIN = 40
_BUDGET_LOGGING = 42  # the same with one self.log("loss", loss) per step
# Everything on (progress bar, CSV and TensorBoard loggers, checkpointing, telemetry recorder, self.log per step):
# 57.2 before the second clean-up, 46.2 after it (the bar and the recorder test their time throttles inline).
_BUDGET_ALL_ON = 48


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


def _engine_calls(steps: int, log_loss: bool, **flags: Any) -> int:
    batches = _Batches(steps)
    trainer = quiet_trainer(max_epochs=1, num_sanity_val_steps=0, limit_val_batches=0, **flags)
    profiler = cProfile.Profile()
    profiler.enable()
    trainer.fit(_Regression(log_loss), train_dataloaders=batches)
    profiler.disable()
    assert trainer.global_step == steps
    package = os.path.dirname(trainer_core.__file__) + os.sep
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return sum(calls for (path, _, _), (_, calls, *_) in stats.items() if path.startswith(package))


def _calls_per_step(log_loss: bool, **flags: Any) -> float:
    _engine_calls(5, log_loss, **flags)  # warm-up: per-class caches, lazy imports
    return (_engine_calls(60, log_loss, **flags) - _engine_calls(20, log_loss, **flags)) / 40


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


def test_a_step_with_every_feature_on_calls_few_engine_functions(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    # A frozen clock: the bar's and the recorder's time-throttled redraws then happen at the first and last batch
    # of every fit alike, so the count does not depend on the machine's speed.
    monkeypatch.setattr(time, "monotonic", lambda: 0.0)
    per_step = _calls_per_step(log_loss=True, enable_progress_bar=True, logger=True, enable_checkpointing=True,
                               default_root_dir=str(tmp_path))
    assert per_step <= _BUDGET_ALL_ON, (
        f"{per_step:.1f} engine function calls per training step with every feature on (budget {_BUDGET_ALL_ON}): "
        "a callback's per-batch hook does new work on batches where nothing is due (python -m "
        "benchmarks.count_step --config 'all on' lists the functions)")
