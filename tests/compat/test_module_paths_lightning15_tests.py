"""1.x module paths that Lightning 1.5's own public-behaviour tests import (each stopped a whole test file)."""

from __future__ import annotations

import importlib

import pytest
import torch

import trainer_core as pl


@pytest.mark.parametrize(("module", "name"), [
    ("trainer_core.utilities.exceptions", "MisconfigurationException"),
    ("trainer_core.callbacks.base", "Callback"),
    ("trainer_core.core.saving", "load_hparams_from_yaml"),
    ("trainer_core.core.saving", "save_hparams_to_yaml"),
    ("trainer_core.callbacks.stochastic_weight_avg", "StochasticWeightAveraging"),
    ("trainer_core.callbacks.gradient_accumulation_scheduler", "GradientAccumulationScheduler"),
    ("trainer_core.callbacks.device_stats_monitor", "DeviceStatsMonitor"),
    ("trainer_core.utilities.distributed", "rank_zero_only"),
    ("trainer_core.utilities.warnings", "rank_zero_warn"),
    ("trainer_core.utilities.parsing", "AttributeDict"),
    ("trainer_core.utilities.types", "STEP_OUTPUT"),
    ("trainer_core.utilities.types", "EPOCH_OUTPUT"),
])
def test_1x_import_path_resolves(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"from {module} import {name}"


def test_misconfiguration_from_the_old_path_is_what_the_trainer_raises() -> None:
    from trainer_core.utilities.exceptions import MisconfigurationException

    with pytest.raises(MisconfigurationException):
        pl.Trainer(max_epochs=-5)


def test_callback_from_the_old_path_is_the_one_the_trainer_calls(tmp_path) -> None:
    from trainer_core.callbacks.base import Callback

    class Seen(Callback):
        def __init__(self) -> None:
            self.fits = 0

        def on_fit_start(self, trainer, pl_module) -> None:
            self.fits += 1

    seen = Seen()
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=1, limit_val_batches=0,
                         logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[seen])
    trainer.fit(_TinyModule())
    assert seen.fits == 1


def test_hparams_yaml_round_trip_through_the_old_path(tmp_path) -> None:
    from trainer_core.core.saving import load_hparams_from_yaml, save_hparams_to_yaml

    path = str(tmp_path / "hparams.yaml")
    save_hparams_to_yaml(path, {"lr": 0.25, "layers": [2, 3]})
    assert load_hparams_from_yaml(path) == {"lr": 0.25, "layers": [2, 3]}


class _TinyModule(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch).sum()

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.randn(4, 2), batch_size=2)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)
