"""1.3-era code writes ``transfer_batch_to_device(self, batch, device)`` without ``dataloader_idx`` (added in 1.4,
which still called the old two-argument form with a deprecation). Found with a real DQN project whose DataModule
overrides the hook that way ("takes 3 positional arguments but 4 were given" before)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer


class _TwoArgumentModel(BoringModel):
    def __init__(self) -> None:
        super().__init__()
        self.moved: list[torch.device] = []

    def transfer_batch_to_device(self, batch: Any, device: torch.device) -> Any:
        self.moved.append(device)
        return batch.to(device)


class _TwoArgumentDataModule(pl.LightningDataModule):
    def __init__(self) -> None:
        super().__init__()
        self.moved = 0

    def train_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, 8), batch_size=2)

    def transfer_batch_to_device(self, batch: Any, device: torch.device) -> Any:
        self.moved += 1
        return batch * 0  # visible in the loss: every batch the module sees passed through here


def test_module_hook_written_without_dataloader_idx() -> None:
    model = _TwoArgumentModel()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=2, num_sanity_val_steps=0)
    trainer.fit(model)
    assert len(model.moved) == 3 + 2
    assert all(device == torch.device("cpu") for device in model.moved)


def test_datamodule_hook_written_without_dataloader_idx() -> None:
    seen: list[torch.Tensor] = []

    class _Recording(BoringModel):
        def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
            seen.append(batch)
            return super().training_step(batch, batch_idx)

    dm = _TwoArgumentDataModule()
    model = _Recording()
    model.val_dataloader = None
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3)
    trainer.fit(model, datamodule=dm)
    assert dm.moved == 3
    assert len(seen) == 3 and all(not batch.any() for batch in seen)
