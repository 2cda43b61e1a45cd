"""GAN with two optimizers: a generator learns to draw points from a ring of eight Gaussian blobs.

The real data are 2-D points around 8 centres on a circle of radius 2 (generated from a fixed seed). The generator
turns 8-D noise into points; the discriminator tells real points from generated ones. Validation measures
``val_mode_dist``: the mean distance from a generated point to its nearest centre (0.05 is the blobs' own spread;
an untrained generator, whose points sit near the middle of the ring, scores about 1.9; 15 epochs reach about 0.3),
and ``val_modes_hit``: how many of the 8 blobs the generator covers (8 after 15 epochs).

Shows: Lightning 1.x multiple optimizers. ``configure_optimizers`` returns ``[opt_g, opt_d]`` and the trainer calls
``training_step(batch, batch_idx, optimizer_idx)`` once per optimizer for every batch, with index 0 (generator)
then 1 (discriminator); each call returns the loss for that optimizer only. The LR finder refuses models with more
than one optimizer (as Lightning does), so tune the batch size only. ``gan.yaml`` turns on the advanced profiler
and ``log_samples``: Bolts' ``TensorboardGenerativeModelImageSampler`` (from ``trainer_core.bolts.callbacks``) then
draws the generator's points as a picture of the plane after every epoch (the studio's Images tab, TensorBoard's
IMAGES tab), so you watch the ring form.

Run it:
    python -m trainer_core fit --model resources/examples/gan.py --config resources/examples/gan.yaml
"""

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.bolts.callbacks import TensorboardGenerativeModelImageSampler

CENTRES = torch.tensor([[2 * math.cos(2 * math.pi * k / 8), 2 * math.sin(2 * math.pi * k / 8)] for k in range(8)])


def make_ring(n: int, seed: int) -> torch.Tensor:
    """Return ``n`` points around the 8 centres (standard deviation 0.05)."""
    g = torch.Generator().manual_seed(seed)
    which = torch.randint(0, 8, (n,), generator=g)
    return CENTRES[which] + 0.05 * torch.randn(n, 2, generator=g)


def density_picture(points: torch.Tensor, size: int = 64, extent: float = 3.0) -> torch.Tensor:
    """Points of the plane as a (1, 1, size, size) picture: brightness is the square root of the point density
    (y up), and the 8 ring centres show as faint dots where no point landed."""

    def cell_index(xy: torch.Tensor) -> torch.Tensor:
        cells = ((xy.clamp(-extent, extent * 0.999) + extent) / (2 * extent) * size).long()
        return (size - 1 - cells[:, 1]) * size + cells[:, 0]

    counts = torch.bincount(cell_index(points.detach().float().cpu()), minlength=size * size).float()
    picture = (counts / counts.max().clamp(min=1)).sqrt()
    centres = cell_index(CENTRES)
    picture[centres] = torch.where(counts[centres] == 0, torch.full_like(picture[centres], 0.3), picture[centres])
    return picture.view(1, 1, size, size)


class RingSampler(TensorboardGenerativeModelImageSampler):
    """Bolts' sampler for a generator of 2-D points: the samples become one density picture instead of a grid of
    images (``sample`` is the sampler's hook for what "a sample" looks like)."""

    def sample(self, pl_module):
        z = torch.randn(self.num_samples, pl_module.hparams.latent_dim, device=pl_module.device)
        was_training = pl_module.training
        with torch.no_grad():
            pl_module.eval()
            points = pl_module(z)
            pl_module.train(was_training)
        return density_picture(points)


class RingGAN(pl.LightningModule):
    """Generator + discriminator, both small MLPs, trained with the non-saturating GAN loss."""

    def __init__(self, latent_dim: int = 8, hidden_size: int = 64, lr: float = 2e-3, batch_size: int = 64,
                 log_samples: bool = False):
        super().__init__()
        self.save_hyperparameters()
        self.generator = nn.Sequential(
            nn.Linear(latent_dim, hidden_size), nn.ReLU(),
            nn.Linear(hidden_size, hidden_size), nn.ReLU(),
            nn.Linear(hidden_size, 2),
        )
        self.discriminator = nn.Sequential(
            nn.Linear(2, hidden_size), nn.LeakyReLU(0.2),
            nn.Linear(hidden_size, hidden_size), nn.LeakyReLU(0.2),
            nn.Linear(hidden_size, 1),  # a logit: > 0 means "real"
        )
        self.example_input_array = torch.zeros(2, latent_dim)

    def forward(self, z):
        return self.generator(z)  # noise in, points out

    def setup(self, stage=None):
        self.train_set = TensorDataset(make_ring(4096, seed=0))
        # Validation feeds fixed noise to the generator, so the metric curves compare like with like.
        g = torch.Generator().manual_seed(1)
        self.val_set = TensorDataset(torch.randn(1024, self.hparams.latent_dim, generator=g))

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True, drop_last=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=1024)

    def training_step(self, batch, batch_idx, optimizer_idx):
        (real,) = batch
        # self.device keeps the code device-agnostic: the noise is made where the model lives.
        z = torch.randn(real.shape[0], self.hparams.latent_dim, device=self.device)
        ones = torch.ones(real.shape[0], 1, device=self.device)
        if optimizer_idx == 0:
            # Generator step: make the discriminator call generated points real.
            g_loss = F.binary_cross_entropy_with_logits(self.discriminator(self(z)), ones)
            self.log("g_loss", g_loss, prog_bar=True)
            return g_loss
        # Discriminator step: real -> 1, generated -> 0. detach() keeps this loss from reaching the generator.
        fake = self(z).detach()
        d_loss = (F.binary_cross_entropy_with_logits(self.discriminator(real), ones)
                  + F.binary_cross_entropy_with_logits(self.discriminator(fake), torch.zeros_like(ones))) / 2
        self.log("d_loss", d_loss, prog_bar=True)
        return d_loss

    def validation_step(self, batch, batch_idx):
        (z,) = batch
        points = self(z)
        dist = torch.cdist(points, CENTRES.to(self.device))  # (N, 8)
        nearest_dist, nearest = dist.min(dim=1)
        # A blob counts as covered when at least 1 % of the points land within 0.3 of its centre.
        close = nearest_dist < 0.3
        counts = torch.bincount(nearest[close], minlength=8)
        self.log("val_mode_dist", nearest_dist.mean(), prog_bar=True)
        self.log("val_modes_hit", (counts >= 0.01 * len(z)).sum().float(), prog_bar=True)

    def configure_optimizers(self):
        # Two optimizers -> training_step gets optimizer_idx 0 and 1. Adam with beta1 = 0.5 is the usual GAN choice.
        betas = (0.5, 0.999)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr, betas=betas)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.lr, betas=betas)
        return [opt_g, opt_d], []

    def configure_callbacks(self):
        # 4,096 generated points per picture: enough to see which blobs the generator covers.
        return [RingSampler(num_samples=4096)] if self.hparams.log_samples else []


if __name__ == "__main__":
    pl.seed_everything(0)
    trainer = pl.Trainer(max_epochs=15, profiler="advanced")
    trainer.fit(RingGAN(log_samples=True))
