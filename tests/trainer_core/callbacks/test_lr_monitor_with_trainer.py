"""LearningRateMonitor inside real fits: several optimizers, named parameter groups (issue 14, item 31)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core import MisconfigurationError
from trainer_core.callbacks import LearningRateMonitor
from trainer_core.loggers import CSVLogger


class TwoOptimizers(BoringModel):
    def training_step(self, batch: Any, batch_idx: int, optimizer_idx: int = 0) -> Any:
        return super().training_step(batch, batch_idx)

    def configure_optimizers(self) -> Any:
        first = torch.optim.Adam(self.parameters(), lr=1e-2)
        second = torch.optim.Adam(self.parameters(), lr=1e-2)
        return [first, second], [torch.optim.lr_scheduler.StepLR(first, 1, gamma=0.1),
                                 torch.optim.lr_scheduler.StepLR(second, 1, gamma=0.1)]


@pytest.mark.parametrize(("interval", "expected"), [("step", 7), ("epoch", 2)])
def test_two_optimizers_are_both_logged(tmp_path: Any, interval: str, expected: int) -> None:
    monitor = LearningRateMonitor(logging_interval=interval)
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=7, limit_val_batches=0, log_every_n_steps=2,
                            logger=CSVLogger(str(tmp_path)), callbacks=[monitor])
    trainer.fit(TwoOptimizers())
    assert list(monitor.lrs) == ["lr-Adam", "lr-Adam-1"]
    # "step": 14 batches with log_every_n_steps=2 are 7 logging steps, whatever the number of optimizers.
    assert [len(values) for values in monitor.lrs.values()] == [expected, expected]


class NamedGroups(BoringModel):
    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def configure_optimizers(self) -> Any:
        params = list(self.layer.parameters())
        groups = [{"params": [p], "name": name} for p, name in zip(params, self.names)]
        if len(self.names) == 1:
            groups = [{"params": params, "name": self.names[0]}]
        optimizer = torch.optim.SGD(groups, lr=0.1)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, 1)]


@pytest.mark.parametrize("names", [["linear"], ["weight", "bias"]])
def test_named_param_groups_are_logged_under_their_names(tmp_path: Any, names: list[str]) -> None:
    monitor = LearningRateMonitor()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0,
                            logger=CSVLogger(str(tmp_path)), callbacks=[monitor])
    trainer.fit(NamedGroups(names))
    assert list(monitor.lrs) == [f"lr-SGD/{name}" for name in names]


def test_duplicate_param_group_names_are_an_error(tmp_path: Any) -> None:
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0,
                            logger=CSVLogger(str(tmp_path)), callbacks=[LearningRateMonitor()])
    with pytest.raises(MisconfigurationError, match=r"several parameter groups named \['same'\]"):
        trainer.fit(NamedGroups(["same", "same"]))
