"""The loop-limit rules as a pure function of the flags (no Trainer built)."""

from __future__ import annotations

import math
from typing import Any

from trainer_core.flags import validate_flags
from trainer_core.trainer.limits import resolve_loop_limits


def limits(**flags: Any) -> Any:
    return resolve_loop_limits(validate_flags(flags))


def test_defaults_are_1000_epochs_at_least_one_and_unlimited_steps() -> None:
    got = limits()
    assert (got.max_epochs, got.max_steps, got.min_epochs, got.min_steps) == (1000, -1, 1, None)
    assert got.num_sanity_val_steps == 2 and got.limit_train_batches == 1.0


def test_max_steps_or_max_time_lift_the_epoch_default() -> None:
    assert limits(max_steps=10).max_epochs == -1
    got = limits(max_time={"minutes": 1})
    assert got.max_epochs == -1 and got.min_epochs == 0


def test_min_steps_alone_does_not_force_an_epoch() -> None:
    got = limits(min_steps=5)
    assert (got.min_epochs, got.min_steps) == (0, 5)


def test_all_sanity_batches_is_infinite() -> None:
    assert limits(num_sanity_val_steps=-1).num_sanity_val_steps == math.inf


def test_overfit_batches_limits_train_val_and_test_alike() -> None:
    got = limits(overfit_batches=3)
    assert (got.limit_train_batches, got.limit_val_batches, got.limit_test_batches) == (3, 3, 3)
    assert got.limit_predict_batches == 1.0


def test_fast_dev_run_runs_n_batches_of_each_stage_in_one_epoch() -> None:
    got = limits(fast_dev_run=4, max_epochs=7, val_check_interval=0.25, num_sanity_val_steps=5)
    assert (got.limit_train_batches, got.limit_val_batches, got.limit_test_batches,
            got.limit_predict_batches) == (4, 4, 4, 4)
    assert (got.max_steps, got.max_epochs, got.num_sanity_val_steps) == (4, 1, 0)
    assert (got.val_check_interval, got.check_val_every_n_epoch, got.fast_dev_run) == (1.0, 1, 4)


def test_fast_dev_run_true_stays_true_and_means_one_batch() -> None:
    got = limits(fast_dev_run=True)
    assert got.fast_dev_run is True and got.limit_train_batches == 1 and got.max_steps == 1
