"""LightningDataModule defines 1.5's dataloader hooks on the base class; those it does not override say so.

1.x code (Bolts' self-supervised callbacks and examples among it) probes a datamodule with
``try: dm.val_dataloader() except Exception as e: if not str(e).startswith("`val_dataloader` must be implemented"):
raise``; an AttributeError escaped that before. The trainer still treats the base defaults as "not defined".
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core import MisconfigurationError


class _TrainOnly(pl.LightningDataModule):
    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)


class _Model(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def validation_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def val_dataloader(self):  # used because the datamodule has none (1.x fallback)
        return DataLoader(TensorDataset(torch.randn(6, 2)), batch_size=2)


def _probe(dm: pl.LightningDataModule, kind: str):
    """The 1.x idiom: a missing loader is told apart by the start of the message."""
    try:
        return getattr(dm, f"{kind}_dataloader")()
    except Exception as err:
        if not str(err).startswith(f"`{kind}_dataloader` must be implemented"):
            raise
        return None


@pytest.mark.parametrize("kind", ["val", "test", "predict"])
def test_probe_idiom_sees_missing_loaders(kind):
    dm = _TrainOnly()
    assert _probe(dm, kind) is None
    with pytest.raises(MisconfigurationError):
        getattr(dm, f"{kind}_dataloader")()
    assert _probe(dm, "train") is not None


def test_trainer_treats_base_loaders_as_not_defined(tmp_path):
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(_Model(), datamodule=_TrainOnly())
    assert trainer.num_val_batches == [3]  # the module's val_dataloader, not the datamodule's default


def test_loader_assigned_on_a_datamodule_instance_is_used(tmp_path):
    dm = pl.LightningDataModule.from_datasets(train_dataset=TensorDataset(torch.randn(8, 2)), batch_size=4)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False, limit_val_batches=0)
    trainer.fit(_Model(), datamodule=dm)
    assert trainer.global_step == 2
