"""Models for the distributed tests (importable by spawned workers)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


def dataset(n: int = 32) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=generator)
    return TensorDataset(x, x.sum(dim=1, keepdim=True))


class Regression(pl.LightningModule):
    def __init__(self, batch_size: int = 4, fail_on_rank: int | None = None) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.layer = torch.nn.Linear(4, 1)
        self.batch_size = batch_size
        self.fail_on_rank = fail_on_rank

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        if self.fail_on_rank is not None and self.global_rank == self.fail_on_rank and batch_idx == 1:
            raise RuntimeError(f"boom on rank {self.global_rank}")
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, on_epoch=True, sync_dist=True)
        self.log("rank", float(self.global_rank), on_step=False, on_epoch=True, sync_dist=True)
        return loss

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.05)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(dataset(), batch_size=self.batch_size, shuffle=False)
