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
