"""A quick regression script for sweep tests: the learning rate matters, ``offset`` makes val_loss worse by design."""

import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


class SweepRegressor(pl.LightningModule):
    def __init__(self, lr: float = 0.001, offset: float = 0.0, hidden: int = 8):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(256, 4, generator=generator)
        self.data = TensorDataset(x, x.sum(1, keepdim=True))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y) + self.hparams.offset)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    def configure_callbacks(self):
        return [pl.callbacks.ModelCheckpoint(monitor="val_loss", mode="min")]

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=32)

    def val_dataloader(self):
        return DataLoader(self.data, batch_size=64)
