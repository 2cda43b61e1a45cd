"""A tiny regression model with its own data: a few milliseconds per epoch."""

import os
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


class TinyModel(pl.LightningModule):
    """Linear regression on random data.

    Args:
        hidden: width of the hidden layer.
        lr: learning rate.
        step_sleep: seconds to sleep per training step (to make a run slow enough to stop).
        fail_at_step: raise a ValueError at this global step (-1: never).
        crash: "segfault" to crash natively at the first step.
    """

    def __init__(self, hidden: int = 8, lr: float = 0.05, step_sleep: float = 0.0, fail_at_step: int = -1,
                 crash: str = ""):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)

    def _loader(self, n: int) -> DataLoader:
        generator = torch.Generator().manual_seed(n)
        x = torch.randn(n, 4, generator=generator)
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)

    def train_dataloader(self):
        return self._loader(64)

    def val_dataloader(self):
        return self._loader(16)

    def training_step(self, batch, batch_idx):
        if self.global_step == self.hparams.fail_at_step:
            raise ValueError(f"bad batch at step {self.global_step}")
        if self.hparams.crash == "segfault":
            import ctypes

            ctypes.string_at(0)
        if self.hparams.step_sleep:
            time.sleep(self.hparams.step_sleep)
        if batch_idx == 0:
            print(f"user print in epoch {self.current_epoch} from pid {os.getpid()}")
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self(x), y), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
