"""An autoencoder script written the way Lightning 1.5's basic examples are: LightningCLI with a model and a
datamodule, ``run=False``, then fit and test by hand. Random 8x8 "images" stand in for MNIST."""

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

import trainer_core as pl
from trainer_core.utilities.cli import LightningCLI


class LitAutoEncoder(pl.LightningModule):
    def __init__(self, hidden_dim: int = 16, learning_rate: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = nn.Sequential(nn.Linear(64, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 3))
        self.decoder = nn.Sequential(nn.Linear(3, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 64))

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def training_step(self, batch, batch_idx):
        return self._shared_step(batch, "train_loss")

    def validation_step(self, batch, batch_idx):
        self._shared_step(batch, "val_loss")

    def test_step(self, batch, batch_idx):
        self._shared_step(batch, "test_loss")

    def _shared_step(self, batch, name):
        (x,) = batch
        x = x.view(x.size(0), -1)
        loss = F.mse_loss(self(x), x)
        self.log(name, loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.learning_rate)


class MyDataModule(pl.LightningDataModule):
    def __init__(self, batch_size: int = 32, num_samples: int = 96):
        super().__init__()
        self.batch_size = batch_size
        self.num_samples = num_samples

    def setup(self, stage=None):
        data = TensorDataset(torch.rand(self.num_samples, 1, 8, 8, generator=torch.Generator().manual_seed(0)))
        third = self.num_samples // 3
        self.train_set, self.val_set, self.test_set = random_split(
            data, [self.num_samples - 2 * third, third, third], generator=torch.Generator().manual_seed(1))

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=self.batch_size)


def cli_main():
    cli = LightningCLI(LitAutoEncoder, MyDataModule, seed_everything_default=1234, save_config_overwrite=True,
                       run=False)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    result = cli.trainer.test(ckpt_path="best", datamodule=cli.datamodule, verbose=False)
    print(f"done: hidden_dim={cli.model.hparams.hidden_dim} batch_size={cli.datamodule.batch_size} "
          f"epochs={cli.trainer.current_epoch} test_loss={'test_loss' in result[0]}")


if __name__ == "__main__":
    cli_main()
