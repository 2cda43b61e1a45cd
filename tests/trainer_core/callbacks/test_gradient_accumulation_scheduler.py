"""GradientAccumulationScheduler: validation errors and the factor per epoch (Lightning 1.5's rules)."""

from __future__ import annotations

import pytest
from helpers.fake_trainer import FakeTrainer

from trainer_core.callbacks import GradientAccumulationScheduler


@pytest.mark.parametrize("bad", [{}, {"1": 2}, {1: 2.0}, {1.0: 2}, {True: 2}, [(1, 2)]])
def test_type_errors(bad) -> None:
    with pytest.raises(TypeError):
        GradientAccumulationScheduler(bad)


def test_negative_epoch_is_index_error() -> None:
    with pytest.raises(IndexError, match="0-based"):
        GradientAccumulationScheduler({-1: 3, 2: 4})


def test_zero_factor_rejected() -> None:
    with pytest.raises(ValueError, match=">= 1"):
        GradientAccumulationScheduler({0: 0})


def test_factor_per_epoch_sets_trainer() -> None:
    user_dict = {1: 2, 3: 4}
    scheduler = GradientAccumulationScheduler(user_dict)
    assert user_dict == {1: 2, 3: 4}  # not modified
    assert scheduler.scheduling == {0: 1, 1: 2, 3: 4}
    assert scheduler.going_to_accumulate_grad_batches()
    trainer = FakeTrainer()
    seen = []
    for epoch in range(5):
        trainer.current_epoch = epoch
        scheduler.on_train_epoch_start(trainer, None)
        seen.append(trainer.accumulate_grad_batches)
    assert seen == [1, 2, 2, 4, 4]
    assert not GradientAccumulationScheduler({0: 1}).going_to_accumulate_grad_batches()
