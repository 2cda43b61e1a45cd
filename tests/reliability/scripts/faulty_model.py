"""A tiny regression model whose faults are switched on by constructor arguments (reliability tests).

Each fault happens at a chosen global step so that what was produced before it (metrics, checkpoints) is known.
"""

import os
import signal
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


class FaultyModel(pl.LightningModule):
    """Linear regression on fixed random data (8 batches of 8 per epoch, 2 validation batches).

    Args:
        lr: learning rate.
        fail_in: "training_step" or "validation_step": raise a ValueError there once ``global_step >= fail_at``.
        fail_at: global step of the fault.
        kill_at: SIGKILL this process at the end of this global step (-1: never).
        nan_at: return a NaN loss from this global step on (-1: never).
        step_sleep: seconds to sleep per training step (so a run is slow enough to stop or kill).
        val_sleep: seconds to sleep per validation step.
        metrics_per_step: extra metrics logged every training step (GUI flood).
        batches: training batches per epoch.
    """

    def __init__(self, lr: float = 0.05, fail_in: str = "", fail_at: int = -1, kill_at: int = -1,
                 nan_at: int = -1, step_sleep: float = 0.0, val_sleep: float = 0.0, metrics_per_step: int = 0,
                 batches: int = 8):
        super().__init__()
        self.save_hyperparameters()
        self.lr = lr
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))

    def forward(self, x):
        return self.net(x)

    def _loader(self, n: int, seed: int) -> DataLoader:
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(n, 4, generator=generator)
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=8)

    def train_dataloader(self):
        return self._loader(8 * self.hparams.batches, 1)

    def val_dataloader(self):
        return self._loader(16, 2)

    def training_step(self, batch, batch_idx):
        h = self.hparams
        if h.fail_in == "training_step" and self.global_step >= h.fail_at:
            raise ValueError(f"bad batch at step {self.global_step}")  # FAULT LINE training_step
        if h.step_sleep:
            time.sleep(h.step_sleep)
        x, y = batch
        loss = nn.functional.mse_loss(self(x), y)
        if 0 <= h.nan_at <= self.global_step:
            loss = loss * float("nan")
        self.log("train_loss", loss, prog_bar=True)
        for i in range(h.metrics_per_step):
            self.log(f"m{i:03d}", loss.detach() + i, on_step=True, on_epoch=False)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx, dataloader_idx=0):
        if self.global_step == self.hparams.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def validation_step(self, batch, batch_idx):
        h = self.hparams
        if h.fail_in == "validation_step" and self.global_step >= h.fail_at:
            raise ValueError(f"bad validation batch at step {self.global_step}")  # FAULT LINE validation_step
        if h.val_sleep:
            time.sleep(h.val_sleep)
        x, y = batch
        self.log("val_loss", nn.functional.mse_loss(self(x), y), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)
