"""The BoringModel harness: Linear(32 -> 2), loss = MSE to ones, SGD lr 0.1 + StepLR, 64 random samples.

Shared by engine tests; keeps every test tiny and fast.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

import trainer_core as pl


class RandomDataset(Dataset):
    def __init__(self, size: int = 32, length: int = 64, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.data = torch.randn(length, size, generator=generator)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.data[index]


class BoringModel(pl.LightningModule):
    def __init__(self, batch_size: int = 1, length: int = 64) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(32, 2)
        self.batch_size = batch_size
        self.length = length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)

    def loss(self, prediction: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(prediction, torch.ones_like(prediction))

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        return {"loss": self.loss(self(batch))}

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        loss = self.loss(self(batch))
        self.log("val_loss", loss)
        return {"x": loss}

    def test_step(self, batch: Any, batch_idx: int) -> Any:
        loss = self.loss(self(batch))
        self.log("test_loss", loss)
        return {"y": loss}

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.SGD(self.layer.parameters(), lr=0.1)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)]

    def train_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length), batch_size=self.batch_size)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length, seed=1), batch_size=self.batch_size)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length, seed=2), batch_size=self.batch_size)

    def predict_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length, seed=3), batch_size=self.batch_size)


class TinyLinear(pl.LightningModule):
    """Linear(2 -> 1) trained on 4 random samples in batches of 2 (two steps an epoch), nothing else: for tests of
    what a fit writes (checkpoints, their names and contents) rather than of the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        return self.layer(batch[0]).sum()

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(torch.utils.data.TensorDataset(torch.randn(4, 2)), batch_size=2)


def quiet_trainer(**flags: Any) -> pl.Trainer:
    """A Trainer without console output or files unless the test asks for them."""
    defaults = {"enable_progress_bar": False, "enable_model_summary": False, "logger": False,
                "enable_checkpointing": False}
    defaults.update(flags)
    return pl.Trainer(**defaults)
