"""EarlyStopping decisions against Lightning 1.5's rules, on a fake trainer."""

from __future__ import annotations

import math

import pytest
import torch
from helpers.fake_trainer import FakeTrainer

from trainer_core.callbacks import EarlyStopping
from trainer_core.exceptions import MisconfigurationError


def run_checks(es: EarlyStopping, values: list[float], trainer: FakeTrainer | None = None) -> int | None:
    """Feed one value per epoch through the epoch-end check; return the epoch where a stop was asked."""
    trainer = trainer or FakeTrainer()
    es.setup(trainer, None, "fit")
    for epoch, value in enumerate(values):
        trainer.current_epoch = epoch
        trainer.callback_metrics = {es.monitor: torch.tensor(value)}
        es.on_train_epoch_end(trainer, None)
        es.on_validation_end(trainer, None)  # must not check a second time when checking at epoch end
        if trainer.should_stop:
            return epoch
    return None


@pytest.mark.parametrize(
    ("values", "patience", "expected"),
    [
        ([6, 5, 5, 5, 5, 5], 3, 4),
        ([6, 5, 4, 4, 3, 3], 1, 3),
        ([6, 5, 6, 5, 5, 5], 3, 4),
        ([8, 4, 2, 3, 4, 5, 8, 10], 3, 5),
    ],
)
def test_patience_table(values: list[float], patience: int, expected: int) -> None:
    es = EarlyStopping(monitor="val_loss", patience=patience)
    assert run_checks(es, values) == expected
    assert es.stopped_epoch == expected
    assert es.wait_count == patience


def test_stopping_threshold_stops_when_good_enough() -> None:
    es = EarlyStopping(monitor="val_loss", patience=3, stopping_threshold=2.9)
    assert run_checks(es, [9, 8, 7, 6, 5, 6, 4, 3, 2, 1]) == 8


def test_divergence_threshold_stops_when_bad() -> None:
    es = EarlyStopping(monitor="val_loss", patience=3, divergence_threshold=15.9)
    assert run_checks(es, [9, 4, 2, 16, 32, 64]) == 3


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_stops_immediately(bad: float) -> None:
    es = EarlyStopping(monitor="val_loss", patience=10)
    assert run_checks(es, [5, 4, bad, 3]) == 2


def test_non_finite_ignored_without_check_finite() -> None:
    es = EarlyStopping(monitor="val_loss", patience=10, check_finite=False)
    assert run_checks(es, [5, 4, math.nan, 3]) is None
    assert float(es.best_score) == 3


def test_max_mode_and_min_delta() -> None:
    # +0.05 is not an improvement with min_delta=0.1, +0.2 is.
    es = EarlyStopping(monitor="acc", mode="max", patience=2, min_delta=-0.1)  # the sign is ignored
    assert run_checks(es, [0.5, 0.55, 0.75, 0.8, 0.84]) == 4
    assert float(es.best_score) == pytest.approx(0.75)


def test_patience_counts_checks_at_validation_end() -> None:
    trainer = FakeTrainer(check_val_every_n_epoch=2)
    es = EarlyStopping(monitor="val_loss", patience=1)
    es.setup(trainer, None, "fit")
    trainer.callback_metrics = {"val_loss": torch.tensor(1.0)}
    es.on_train_epoch_end(trainer, None)  # not the configured place: no check
    es.on_train_epoch_end(trainer, None)
    assert es.wait_count == 0 and float(es.best_score) == math.inf
    es.on_validation_end(trainer, None)
    es.on_validation_end(trainer, None)
    assert trainer.should_stop


def test_strict_missing_metric_lists_available_keys() -> None:
    trainer = FakeTrainer(callback_metrics={"train_loss": torch.tensor(1.0), "val_acc": torch.tensor(0.5)})
    es = EarlyStopping(monitor="val_loss")
    es.setup(trainer, None, "fit")
    with pytest.raises(RuntimeError, match=r"'val_loss'.*\['train_loss', 'val_acc'\]"):
        es.on_train_epoch_end(trainer, None)


def test_non_strict_missing_metric_skips() -> None:
    trainer = FakeTrainer(callback_metrics={"train_loss": torch.tensor(1.0)})
    es = EarlyStopping(monitor="val_loss", strict=False, patience=0)
    es.setup(trainer, None, "fit")
    es.on_train_epoch_end(trainer, None)
    assert not trainer.should_stop and es.wait_count == 0


@pytest.mark.parametrize(
    "changes", [{"sanity_checking": True}, {"fast_dev_run": 1}, {"state": "validate"}]
)
def test_no_decision_in_sanity_check_fast_dev_run_or_outside_fit(changes: dict) -> None:
    trainer = FakeTrainer(callback_metrics={"val_loss": torch.tensor(math.nan)})
    if changes.pop("state", None):
        trainer.state.stage = "validate"
    for key, value in changes.items():
        setattr(trainer, key, value)
    es = EarlyStopping(monitor="val_loss", patience=0)
    es.setup(trainer, None, "fit")
    es.on_train_epoch_end(trainer, None)
    es.on_validation_end(trainer, None)
    assert not trainer.should_stop


def test_decision_goes_through_strategy_and_is_or_ed() -> None:
    trainer = FakeTrainer(should_stop=True)
    es = EarlyStopping(monitor="val_loss", patience=5)
    run_checks(es, [1.0], trainer)
    assert trainer.strategy.decisions == [(False, False)]  # "any rank" reduction
    assert trainer.should_stop  # an existing stop request is kept


def test_check_on_train_epoch_end_default() -> None:
    for interval, every, expected in ((1.0, 1, True), (0.5, 1, False), (1.0, 3, False), (10, 1, False)):
        es = EarlyStopping(monitor="m")
        es.setup(FakeTrainer(val_check_interval=interval, check_val_every_n_epoch=every), None, "fit")
        assert es._check_on_train_epoch_end is expected


def test_state_key_and_resume_round_trip() -> None:
    es = EarlyStopping(monitor="val_loss", mode="min", patience=3)
    assert es.state_key == "EarlyStopping{'monitor': 'val_loss', 'mode': 'min'}"
    assert run_checks(es, [6, 5, 5]) is None
    state = es.on_save_checkpoint(None, None, {})
    assert state["wait_count"] == 1 and float(state["best_score"]) == 5 and state["patience"] == 3

    resumed = EarlyStopping(monitor="val_loss", patience=3)
    resumed.on_load_checkpoint(None, None, state)
    trainer = FakeTrainer()
    resumed.setup(trainer, None, "fit")
    for epoch, value in ((3, 5.0), (4, 5.0)):
        trainer.current_epoch = epoch
        trainer.callback_metrics = {"val_loss": torch.tensor(value)}
        resumed.on_train_epoch_end(trainer, None)
    assert trainer.should_stop and resumed.stopped_epoch == 4  # same as the uninterrupted table row


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"mode": "auto"}, "mode='min'"), ({"patience": -1}, "patience")]
)
def test_bad_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(MisconfigurationError, match=match):
        EarlyStopping(monitor="val_loss", **kwargs)


def test_monitor_none_warns_and_uses_legacy_key() -> None:
    with pytest.warns(DeprecationWarning, match="early_stop_on"):
        es = EarlyStopping()
    assert es.monitor == "early_stop_on"
