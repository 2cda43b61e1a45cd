"""A non-finite monitored metric stops the run and always names the metric, the epoch and the step."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core.callbacks import EarlyStopping


class NanAtSecondEpoch(BoringModel):
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_loss", float("nan") if self.current_epoch == 1 else 1.0)


def test_non_finite_metric_is_named_with_epoch_and_step(caplog: pytest.LogCaptureFixture) -> None:
    trainer = quiet_trainer(max_epochs=5, limit_train_batches=2, limit_val_batches=1, num_sanity_val_steps=0,
                            callbacks=[EarlyStopping(monitor="val_loss")])
    with caplog.at_level(logging.WARNING, logger="trainer_core"):
        trainer.fit(NanAtSecondEpoch())
    assert trainer.current_epoch == 2
    messages = [r.getMessage() for r in caplog.records if "not finite" in r.getMessage()]
    assert messages and "val_loss = nan" in messages[0] and "epoch 1, global step 4" in messages[0]


class Flat(BoringModel):
    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val_loss", 1.0)


def test_the_stop_reason_is_kept_for_run_summaries() -> None:
    stopper = EarlyStopping(monitor="val_loss", patience=2)
    trainer = quiet_trainer(max_epochs=10, limit_train_batches=2, limit_val_batches=1, num_sanity_val_steps=0,
                            callbacks=[stopper])
    trainer.fit(Flat())
    # Epoch 0 sets the best; epochs 1 and 2 do not improve on it: patience 2 stops after epoch 2 (6 steps).
    assert stopper.stop_reason == ("Monitored metric val_loss did not improve in the last 2 records. Best score: "
                                   "1.000 (best at epoch 0, global step 2; stopped at epoch 2, global step 6)")


def test_no_stop_reason_when_the_run_reaches_max_epochs() -> None:
    stopper = EarlyStopping(monitor="val_loss", patience=5)
    quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1, num_sanity_val_steps=0,
                  callbacks=[stopper]).fit(Flat())
    assert stopper.stop_reason is None
