"""How long the loops run: the 1.5 rules that turn the limit flags into the numbers the loops read.

A pure function of the validated flags, so each rule can be tested without building a Trainer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["LoopLimits", "resolve_loop_limits"]


@dataclass(frozen=True)
class LoopLimits:
    """The loop limits of one Trainer (the Trainer copies each field onto an attribute of the same name).

    ``max_epochs``/``max_steps`` of -1 mean "no limit"; ``limit_*_batches`` are an int count or a float fraction;
    ``num_sanity_val_steps`` is ``inf`` for "all validation batches" (the flag's -1).
    """

    fast_dev_run: bool | int
    max_epochs: int
    max_steps: int
    min_epochs: int
    min_steps: int | None
    max_time: Any
    limit_train_batches: int | float
    limit_val_batches: int | float
    limit_test_batches: int | float
    limit_predict_batches: int | float
    val_check_interval: int | float
    check_val_every_n_epoch: int | None
    num_sanity_val_steps: int | float
    overfit_batches: int | float


def resolve_loop_limits(flags: Mapping[str, Any]) -> LoopLimits:
    """Apply the 1.5 rules to validated flags.

    - ``max_epochs=None`` is 1000 unless ``max_steps`` or ``max_time`` bounds the run (then unlimited, -1).
    - Without any of ``min_epochs``, ``min_steps``, ``max_time``, at least one epoch runs (``min_epochs=1``).
    - ``overfit_batches`` limits train, val and test to the same batches.
    - ``fast_dev_run=n`` (True is 1) runs n batches of each stage in one epoch, no sanity check, validation
      at the epoch's end; ``fast_dev_run`` itself keeps the value given (True stays True).
    """
    max_epochs, max_steps, max_time = flags["max_epochs"], flags["max_steps"], flags["max_time"]
    if max_epochs is None:
        max_epochs = 1000 if max_steps == -1 and max_time is None else -1
    min_epochs, min_steps = flags["min_epochs"], flags["min_steps"]
    if min_epochs is None and min_steps is None and max_time is None:
        min_epochs = 1
    sanity = flags["num_sanity_val_steps"]
    values: dict[str, Any] = dict(
        fast_dev_run=flags["fast_dev_run"], max_epochs=max_epochs, max_steps=max_steps, min_epochs=min_epochs or 0,
        min_steps=min_steps, max_time=max_time, limit_train_batches=flags["limit_train_batches"],
        limit_val_batches=flags["limit_val_batches"], limit_test_batches=flags["limit_test_batches"],
        limit_predict_batches=flags["limit_predict_batches"], val_check_interval=flags["val_check_interval"],
        check_val_every_n_epoch=flags["check_val_every_n_epoch"],
        num_sanity_val_steps=math.inf if sanity == -1 else sanity, overfit_batches=flags["overfit_batches"],
    )
    overfit = values["overfit_batches"]
    if overfit > 0:
        values.update(limit_train_batches=overfit, limit_val_batches=overfit, limit_test_batches=overfit)
    if flags["fast_dev_run"]:
        n = int(flags["fast_dev_run"])
        values.update(limit_train_batches=n, limit_val_batches=n, limit_test_batches=n, limit_predict_batches=n,
                      max_steps=n, max_epochs=1, num_sanity_val_steps=0, val_check_interval=1.0,
                      check_val_every_n_epoch=1)
    return LoopLimits(**values)
