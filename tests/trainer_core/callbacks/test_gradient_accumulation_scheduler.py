"""GradientAccumulationScheduler: validation errors and the factor per epoch (Lightning 1.5's rules)."""

from __future__ import annotations

import pytest
from helpers.boring_model import BoringModel
from helpers.fake_trainer import FakeTrainer

import trainer_core as pl
from trainer_core.callbacks import GradientAccumulationScheduler
from trainer_core.exceptions import MisconfigurationError


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


def _fit(**flags) -> None:
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, **flags)
    trainer.fit(BoringModel())


@pytest.mark.parametrize("factor", [1, 4])
def test_accumulate_grad_batches_flag_with_a_scheduler_is_an_error(factor: int) -> None:
    with pytest.raises(MisconfigurationError, match=rf"accumulate_grad_batches={factor}\) and a "
                                                     "GradientAccumulationScheduler"):
        _fit(accumulate_grad_batches=factor, callbacks=[GradientAccumulationScheduler({1: 2})])


def test_scheduler_alone_or_from_a_dict_flag_runs() -> None:
    _fit(callbacks=[GradientAccumulationScheduler({1: 2})])
    _fit(accumulate_grad_batches={1: 2})
