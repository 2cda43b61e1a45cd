"""1.x reads Trainer defaults from PL_TRAINER_* environment variables; scripts that build their Trainer in code
(no command line) are limited that way, e.g. PL_TRAINER_LIMIT_TRAIN_BATCHES=2 for a smoke run."""

from __future__ import annotations

import pytest

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core.exceptions import MisconfigurationError


def test_environment_supplies_flags_the_script_does_not_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TRAINER_LIMIT_TRAIN_BATCHES", "3")
    monkeypatch.setenv("PL_TRAINER_LIMIT_VAL_BATCHES", "0.5")
    monkeypatch.setenv("PL_TRAINER_MAX_EPOCHS", "7")
    trainer = quiet_trainer(max_epochs=2)  # the script's own max_epochs wins over the environment
    assert trainer.limit_train_batches == 3
    assert trainer.limit_val_batches == 0.5
    assert trainer.max_epochs == 2
    trainer.fit(BoringModel())
    assert trainer.global_step == 6  # 2 epochs x 3 batches


def test_text_values_stay_strings_and_empty_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TRAINER_DEFAULT_ROOT_DIR", "/tmp/somewhere")
    monkeypatch.setenv("PL_TRAINER_MAX_STEPS", "")
    trainer = quiet_trainer()
    assert str(trainer.default_root_dir) == "/tmp/somewhere"
    assert trainer.max_steps == -1


def test_other_spelling_given_by_the_script_keeps_the_script_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TRAINER_CHECKPOINT_CALLBACK", "True")  # 1.x spelling of enable_checkpointing
    trainer = quiet_trainer(enable_checkpointing=False)  # no "two spellings" error, the script's value holds
    assert trainer.checkpoint_callback is None


def test_bad_environment_value_is_rejected_naming_the_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TRAINER_MAX_EPOCHS", "many")
    with pytest.raises(MisconfigurationError, match="max_epochs"):
        pl.Trainer(logger=False)
