"""1.5's TrainerFn / TrainerStatus / RunningStage and ``trainer.state`` / ``trainer.interrupted``."""

from __future__ import annotations

from typing import Any

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.trainer.states import RunningStage, TrainerFn, TrainerStatus

QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)


def test_values_are_the_15_strings() -> None:
    assert [f.value for f in TrainerFn] == ["fit", "validate", "test", "predict", "tune"]
    assert [s.value for s in TrainerStatus] == ["initializing", "running", "finished", "interrupted"]
    assert [s.value for s in RunningStage] == ["train", "sanity_check", "validate", "test", "predict", "tune"]
    assert TrainerFn("fit") is TrainerFn.FITTING and str(RunningStage.TRAINING) == "train"
    assert {TrainerStatus.FINISHED: 1}["finished"] == 1
    assert RunningStage.VALIDATING.evaluating and not RunningStage.TRAINING.evaluating
    assert RunningStage.VALIDATING.dataloader_prefix == "val" and RunningStage.TUNING.dataloader_prefix is None


class Recorder(pl.Callback):
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self.seen.append((trainer.state.fn, trainer.state.status))

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        self.seen.append((trainer.state.fn, trainer.state.stage))


def test_state_through_fit_and_test() -> None:
    recorder = Recorder()
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, limit_test_batches=1,
                         callbacks=[recorder], **QUIET)
    assert trainer.state.status == TrainerStatus.INITIALIZING and trainer.state.fn is None
    trainer.fit(BoringModel())
    assert trainer.state.fn == TrainerFn.FITTING and trainer.state.status == TrainerStatus.FINISHED
    assert trainer.state.stopped and trainer.state.finished and not trainer.interrupted
    trainer.test(verbose=False)
    assert recorder.seen == [(TrainerFn.FITTING, TrainerStatus.RUNNING), (TrainerFn.TESTING, RunningStage.TESTING)]


class Interrupting(BoringModel):
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if batch_idx == 1:
            raise KeyboardInterrupt
        return super().training_step(batch, batch_idx)


def test_keyboard_interrupt_marks_the_trainer_interrupted() -> None:
    trainer = pl.Trainer(max_epochs=3, **QUIET)
    trainer.fit(Interrupting())
    assert trainer.interrupted and trainer.state.status == TrainerStatus.INTERRUPTED and trainer.state.stopped

