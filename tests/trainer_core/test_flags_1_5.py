"""Trainer flags as Lightning 1.5 reads them (issue 14 items 32 and 33)."""

from __future__ import annotations

import pytest

import trainer_core as pl
from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAGS, validate_flags

_QUIET = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False,
          "enable_checkpointing": False}


@pytest.mark.parametrize("flags", [
    {"num_processes": 2, "gpus": None},
    {"gpus": None, "tpu_cores": None},
    {"devices": 1, "gpus": None, "tpu_cores": None, "num_processes": 1},
    {"checkpoint_callback": True, "enable_checkpointing": True},
    {"enable_progress_bar": False, "progress_bar_refresh_rate": None},
])
def test_a_spelling_left_at_none_or_its_default_is_not_a_second_spelling(flags: dict) -> None:
    validate_flags(flags)  # what argparse passes: every flag, most at their defaults


def test_two_spellings_both_set_are_still_an_error() -> None:
    with pytest.raises(MisconfigurationError, match="two spellings of the same setting"):
        validate_flags({"checkpoint_callback": False, "enable_checkpointing": False})
    with pytest.raises(MisconfigurationError, match="two spellings of the same setting"):
        validate_flags({"gpus": 1, "num_processes": 2})


def test_the_setting_a_lone_spelling_gives_is_kept() -> None:
    trainer = pl.Trainer(**{**_QUIET, "enable_checkpointing": True}, checkpoint_callback=False)
    assert trainer.checkpoint_callback is None
    cpu = pl.Trainer(num_processes=1, gpus=None, **_QUIET)
    assert cpu.root_device.type == "cpu"
    assert pl.Trainer(num_processes=2, gpus=None, **_QUIET).world_size == 2  # CPU processes, as 1.5


@pytest.mark.parametrize(("value", "expected"), [(True, 1), (False, 0), (3, 3)])
def test_reload_dataloaders_every_n_epochs_true_means_1(value: object, expected: int) -> None:
    trainer = pl.Trainer(reload_dataloaders_every_n_epochs=value, **_QUIET)
    assert trainer.reload_dataloaders_every_n_epochs == expected


def test_fast_dev_run_true_stays_true_and_runs_one_batch() -> None:
    trainer = pl.Trainer(fast_dev_run=True, **_QUIET)
    assert trainer.fast_dev_run is True
    assert trainer.max_steps == 1 and trainer.limit_train_batches == 1 and trainer.limit_val_batches == 1
    assert pl.Trainer(fast_dev_run=3, **_QUIET).fast_dev_run == 3


def test_min_steps_is_none_when_not_given() -> None:
    assert pl.Trainer(**_QUIET).min_steps is None
    assert pl.Trainer(min_steps=5, **_QUIET).min_steps == 5


def test_distributed_backend_is_the_old_spelling_of_strategy() -> None:
    with pytest.warns(DeprecationWarning, match="distributed_backend='ddp_spawn' is the 1.0-1.4 spelling"):
        flags = validate_flags({"distributed_backend": "ddp_spawn"})
    assert flags["strategy"] == "ddp_spawn"
    with pytest.warns(DeprecationWarning):
        trainer = pl.Trainer(distributed_backend="ddp_spawn", accelerator="cpu", devices=2, **_QUIET)
    spawn = pl.Trainer(strategy="ddp_spawn", accelerator="cpu", devices=2, **_QUIET)
    assert type(trainer.strategy) is type(spawn.strategy) and trainer.world_size == 2
    with pytest.raises(MisconfigurationError, match="two spellings"):
        validate_flags({"distributed_backend": "ddp", "strategy": "ddp_spawn"})
    assert FLAGS["distributed_backend"].legacy
