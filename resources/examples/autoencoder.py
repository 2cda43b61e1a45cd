"""Autoencoder: an encoder and a decoder network learn to compress 8x8 pictures into 4 numbers and back.

The data are 8x8 grey-scale pictures of bars, crosses and diagonals with random position, intensity and noise,
generated from a fixed seed at setup (nothing is downloaded). Because every picture is built from a few shapes, a
4-dimensional code is enough to reconstruct them well, which the falling ``val_recon`` curve shows.

Shows: two sub-networks in one LightningModule, ``configure_optimizers`` returning an optimizer plus a learning-rate
scheduler (the LearningRateMonitor added in ``configure_callbacks`` logs the rate), ``predict_step`` returning
the codes, and the recommended flags in ``autoencoder.yaml`` turn on gradient-norm tracking (``track_grad_norm``)
and gradient clipping, so the studio's gradient plot has data. With ``log_reconstructions`` the first validation
batch's pictures and their reconstructions go to ``self.logger.experiment.add_images`` (the Images tab), and with
``monitor_layers`` Bolts' ``ModuleDataMonitor`` logs histograms of what enters and leaves the encoder and the
decoder (the Distributions tab); ``autoencoder.yaml`` turns both on.

Run it:
    python -m trainer_core fit --model resources/examples/autoencoder.py --config resources/examples/autoencoder.yaml
"""

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.bolts.callbacks import ModuleDataMonitor
from trainer_core.callbacks import LearningRateMonitor, ModelCheckpoint


def make_pictures(n: int, seed: int) -> torch.Tensor:
    """Return ``n`` pictures of shape (1, 8, 8) in [0, 1]: one random bar, cross or diagonal each, plus noise."""
    g = torch.Generator().manual_seed(seed)
    pics = torch.zeros(n, 8, 8)
    kinds = torch.randint(0, 3, (n,), generator=g)
    pos = torch.randint(1, 7, (n,), generator=g)
    level = 0.5 + 0.5 * torch.rand(n, generator=g)
    eye = torch.eye(8)
    for i in range(n):
        p = int(pos[i])
        if kinds[i] == 0:  # vertical bar
            pics[i, :, p] = 1.0
        elif kinds[i] == 1:  # cross
            pics[i, p, :] = 1.0
            pics[i, :, p] = 1.0
        else:  # diagonal, shifted
            pics[i] = torch.roll(eye, shifts=p - 4, dims=1)
        pics[i] *= level[i]
    pics += 0.05 * torch.randn(n, 8, 8, generator=g)
    return pics.clamp(0, 1).unsqueeze(1)


class Encoder(nn.Module):
    """(N, 1, 8, 8) picture -> (N, code_size) code."""

    def __init__(self, code_size: int):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.GELU(), nn.Linear(32, code_size))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    """(N, code_size) code -> (N, 1, 8, 8) picture in [0, 1]."""

    def __init__(self, code_size: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(code_size, 32), nn.GELU(), nn.Linear(32, 64), nn.Sigmoid())

    def forward(self, z):
        return self.net(z).view(-1, 1, 8, 8)


class AutoEncoder(pl.LightningModule):
    """Encoder + decoder trained to reproduce their input (mean squared reconstruction error)."""

    def __init__(self, code_size: int = 4, lr: float = 3e-3, batch_size: int = 64, num_pictures: int = 2048,
                 log_reconstructions: bool = False, monitor_layers: bool = False):
        super().__init__()
        self.save_hyperparameters()
        self.encoder = Encoder(code_size)
        self.decoder = Decoder(code_size)
        self.example_input_array = torch.zeros(2, 1, 8, 8)

    def forward(self, x):
        # forward() is what users call after training: picture in, reconstruction out.
        return self.decoder(self.encoder(x))

    def setup(self, stage=None):
        pics = make_pictures(self.hparams.num_pictures, seed=0)
        n_val = len(pics) // 8
        self.train_set = TensorDataset(pics[n_val:])
        self.val_set = TensorDataset(pics[:n_val])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)

    def predict_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)

    def training_step(self, batch, batch_idx):
        (x,) = batch
        loss = F.mse_loss(self(x), x)
        self.log("train_recon", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        (x,) = batch
        reconstruction = self(x)
        self.log("val_recon", F.mse_loss(reconstruction, x), prog_bar=True)
        if batch_idx == 0 and self.hparams.log_reconstructions and not self.trainer.sanity_checking:
            self.log_reconstructions(x[:8], reconstruction[:8])

    def log_reconstructions(self, pictures, reconstructions):
        """8 pictures over their reconstructions, as one image per validation run (TensorBoard's add_images)."""
        experiment = getattr(self.logger, "experiment", None)
        if hasattr(experiment, "add_images"):  # the default TensorBoard logger; a CSV-only run skips the pictures
            experiment.add_images("reconstructions", torch.cat([pictures, reconstructions]), self.global_step)

    def predict_step(self, batch, batch_idx, dataloader_idx=None):
        (x,) = batch
        return self.encoder(x)  # the learned 4-number codes

    def configure_optimizers(self):
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr)
        # Cosine decay over the run, stepped once per epoch; T_max follows max_epochs so any run length works
        # (max_epochs is None or -1 when the run is limited by steps or time instead: assume 20 epochs then).
        max_epochs = getattr(self.trainer, "max_epochs", None)
        epochs = max_epochs if max_epochs is not None and max_epochs > 0 else 20
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}

    def configure_callbacks(self):
        return [
            LearningRateMonitor(logging_interval="epoch"),
            ModelCheckpoint(monitor="val_recon", mode="min", save_top_k=2, filename="{epoch}-{val_recon:.4f}"),
            # Histograms of the pictures, the codes and the reconstructions every log_every_n_steps steps.
            *([ModuleDataMonitor(submodules=["encoder", "decoder"])] if self.hparams.monitor_layers else []),
        ]


if __name__ == "__main__":
    pl.seed_everything(0)
    trainer = pl.Trainer(max_epochs=15, track_grad_norm=2, gradient_clip_val=1.0)
    trainer.fit(AutoEncoder(log_reconstructions=True, monitor_layers=True))
