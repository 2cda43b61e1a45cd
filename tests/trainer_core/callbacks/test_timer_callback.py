"""Timer: duration parsing, elapsed/remaining per stage, stopping, checkpointed state (fake clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers.fake_trainer import FakeTrainer

from trainer_core.callbacks import Timer
from trainer_core.exceptions import MisconfigurationError


@pytest.fixture()
def clock(monkeypatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr("trainer_core.callbacks.timer.time.monotonic", lambda: now[0])
    return now


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [("00:00:01:30", 90), (timedelta(minutes=2), 120), ({"hours": 1, "minutes": 1}, 3660), ("01:00:00:00", 86400)],
)
def test_duration_forms(duration, seconds: int) -> None:
    assert Timer(duration).duration == timedelta(seconds=seconds)


@pytest.mark.parametrize("bad", ["1:30", "aa:bb:cc:dd", {"fortnights": 1}, 12])
def test_bad_duration(bad) -> None:
    with pytest.raises(MisconfigurationError, match="DD:HH:MM:SS|timedelta"):
        Timer(bad)


def test_bad_interval() -> None:
    with pytest.raises(MisconfigurationError, match="'step' or 'epoch'"):
        Timer("00:00:00:10", interval="batch")


def test_step_interval_stops_after_duration(clock) -> None:
    trainer = FakeTrainer()
    timer = Timer("00:00:00:10", interval="step")
    timer.on_train_start(trainer, None)
    stopped_at = None
    for batch in range(20):
        clock[0] += 1.0
        timer.on_train_batch_end(trainer, None, None, None, batch)
        if trainer.should_stop:
            stopped_at = batch
            break
    assert stopped_at == 9
    assert timer.stop_reason == "Time limit 0:00:10 reached after 0:00:10 (epoch 0, global step 0)"
    assert timer.time_elapsed("train") == pytest.approx(10.0)
    assert timer.time_remaining("train") == pytest.approx(0.0)


def test_epoch_interval_ignores_batches(clock) -> None:
    trainer = FakeTrainer()
    timer = Timer({"seconds": 5}, interval="epoch")
    timer.on_train_start(trainer, None)
    clock[0] += 60
    timer.on_train_batch_end(trainer, None, None, None, 0)
    assert not trainer.should_stop and timer.stop_reason is None
    timer.on_train_epoch_end(trainer, None)
    assert trainer.should_stop


def test_stage_times_and_resume(clock) -> None:
    trainer = FakeTrainer()
    timer = Timer(timedelta(seconds=100))
    timer.on_train_start(trainer, None)
    clock[0] += 30
    timer.on_validation_start(trainer, None)
    clock[0] += 5
    timer.on_validation_end(trainer, None)
    timer.on_train_end(trainer, None)
    clock[0] += 50  # after the stage ended nothing more is counted
    assert timer.time_elapsed("train") == pytest.approx(35)
    assert timer.time_elapsed("validate") == pytest.approx(5)
    assert timer.time_elapsed("test") == 0
    assert timer.time_remaining() == pytest.approx(65)

    state = timer.on_save_checkpoint(trainer, None, {})
    resumed = Timer(timedelta(seconds=100))
    resumed.on_load_checkpoint(trainer, None, state)
    resumed.on_train_start(trainer, None)
    clock[0] += 10
    assert resumed.time_elapsed() == pytest.approx(45)
    clock[0] += 60
    resumed.on_train_batch_end(trainer, None, None, None, 0)
    assert trainer.should_stop


def test_without_duration_only_measures(clock) -> None:
    trainer = FakeTrainer()
    timer = Timer()
    timer.on_train_start(trainer, None)
    clock[0] += 1e6
    timer.on_train_batch_end(trainer, None, None, None, 0)
    assert not trainer.should_stop and timer.time_remaining() is None
