"""``PL_TRAINER_DETERMINISTIC=1`` (and ``STOCHASTIC_WEIGHT_AVG=1``, ``AUTO_LR_FIND=1``): the shell's way to switch a
boolean flag on. 1.x read the text as the Python literal 1 and its Trainer took it as truthy; the engine refused
`deterministic=1` as not a bool (met running real 1.x scripts with extra flags from the environment). Such flags now
read 1/0 as True/False; flags that take counts keep the number."""

from __future__ import annotations

import pytest

from tests.helpers.boring_model import quiet_trainer
from trainer_core.trainer.env_defaults import env_flag_defaults


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("0", False), ("True", True)])
def test_bool_only_flags_read_one_and_zero_as_bools(raw: str, expected: bool) -> None:
    found = env_flag_defaults("Trainer", {}, {"PL_TRAINER_DETERMINISTIC": raw,
                                              "PL_TRAINER_STOCHASTIC_WEIGHT_AVG": raw,
                                              "PL_TRAINER_AUTO_LR_FIND": raw})
    assert found == {"deterministic": expected, "stochastic_weight_avg": expected, "auto_lr_find": expected}
    assert all(type(value) is bool for value in found.values())


def test_count_flags_keep_their_number() -> None:
    found = env_flag_defaults("Trainer", {}, {"PL_TRAINER_FAST_DEV_RUN": "1", "PL_TRAINER_MAX_EPOCHS": "1",
                                              "PL_TRAINER_LIMIT_TRAIN_BATCHES": "1"})
    assert found == {"fast_dev_run": 1, "max_epochs": 1, "limit_train_batches": 1}
    assert type(found["fast_dev_run"]) is int


def test_trainer_takes_stochastic_weight_avg_one_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PL_TRAINER_STOCHASTIC_WEIGHT_AVG", "1")
    trainer = quiet_trainer(max_epochs=1)
    assert any(type(cb).__name__ == "StochasticWeightAveraging" for cb in trainer.callbacks)
