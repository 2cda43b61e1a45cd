"""A real 1.x knowledge-distillation script configures ``LambdaLR`` and runs with ``stochastic_weight_avg``: at the
SWA start the callback replaces the user's scheduler with ``SWALR``. 1.5 says "Swapping scheduler `LambdaLR` for
`SWALR`" (and warns when the replaced scheduler stepped per batch); the engine swapped without a word."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core.callbacks import StochasticWeightAveraging


class _WithScheduler(BoringModel):
    def __init__(self, interval: str) -> None:
        super().__init__()
        self.interval = interval

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.9 ** epoch)
        return [optimizer], [{"scheduler": scheduler, "interval": self.interval}]


def test_swa_names_the_scheduler_it_replaces(caplog: pytest.LogCaptureFixture,
                                             recwarn: pytest.WarningsRecorder) -> None:
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=0,
                            callbacks=[StochasticWeightAveraging(swa_epoch_start=1)])
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        trainer.fit(_WithScheduler("epoch"))
    assert "Swapping scheduler `LambdaLR` for `SWALR`" in caplog.text
    assert type(trainer.lr_schedulers[0]["scheduler"]).__name__ == "SWALR"
    assert not [w for w in recwarn if "only supported every epoch" in str(w.message)]


def test_swa_warns_when_the_replaced_scheduler_stepped_per_batch() -> None:
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=0,
                            callbacks=[StochasticWeightAveraging(swa_epoch_start=1)])
    with pytest.warns(UserWarning, match="SWA is currently only supported every epoch"):
        trainer.fit(_WithScheduler("step"))
