"""A GAN script written the way Lightning 1.5's domain-template GAN is: argparse plus the Trainer's and the
datamodule's ``add_argparse_args``/``from_argparse_args``, two optimizers chosen by ``optimizer_idx``.

Only the import differs from a Lightning 1.x script. Random 1x8x8 "images" stand in for MNIST.
"""

from argparse import ArgumentParser, Namespace

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


class RandomImageDataModule(pl.LightningDataModule):
    def __init__(self, data_dir: str = "./", batch_size: int = 16, num_workers: int = 0, num_samples: int = 64):
        super().__init__()
        self.data_dir = data_dir
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.num_samples = num_samples
        self.dims = (1, 8, 8)

    def setup(self, stage=None):
        generator = torch.Generator().manual_seed(0)
        self.images = TensorDataset(torch.rand(self.num_samples, *self.dims, generator=generator) * 2 - 1)

    def train_dataloader(self):
        return DataLoader(self.images, batch_size=self.batch_size, num_workers=self.num_workers)


class Generator(nn.Module):
    def __init__(self, latent_dim, img_shape):
        super().__init__()
        self.img_shape = img_shape
        self.model = nn.Sequential(nn.Linear(latent_dim, 32), nn.LeakyReLU(0.2),
                                   nn.Linear(32, int(torch.tensor(img_shape).prod())), nn.Tanh())

    def forward(self, z):
        return self.model(z).view(z.size(0), *self.img_shape)


class Discriminator(nn.Module):
    def __init__(self, img_shape):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(int(torch.tensor(img_shape).prod()), 32), nn.LeakyReLU(0.2),
                                   nn.Linear(32, 1))

    def forward(self, img):
        return self.model(img.view(img.size(0), -1))


class GAN(pl.LightningModule):
    def __init__(self, channels, width, height, latent_dim: int = 16, lr: float = 0.0002, b1: float = 0.5,
                 b2: float = 0.999, batch_size: int = 16, **kwargs):
        super().__init__()
        self.save_hyperparameters()
        shape = (channels, width, height)
        self.generator = Generator(latent_dim=self.hparams.latent_dim, img_shape=shape)
        self.discriminator = Discriminator(img_shape=shape)

    @staticmethod
    def add_argparse_args(parent_parser: ArgumentParser) -> ArgumentParser:
        parser = ArgumentParser(parents=[parent_parser], add_help=False)
        parser.add_argument("--lr", type=float, default=0.0002, help="adam: learning rate")
        parser.add_argument("--b1", type=float, default=0.5)
        parser.add_argument("--b2", type=float, default=0.999)
        parser.add_argument("--latent_dim", type=int, default=16)
        return parser

    def forward(self, z):
        return self.generator(z)

    def training_step(self, batch, batch_idx, optimizer_idx):
        (imgs,) = batch
        z = torch.randn(imgs.shape[0], self.hparams.latent_dim).type_as(imgs)
        valid = torch.ones(imgs.size(0), 1).type_as(imgs)
        if optimizer_idx == 0:
            g_loss = F.binary_cross_entropy_with_logits(self.discriminator(self(z)), valid)
            self.log("g_loss", g_loss, prog_bar=True)
            return g_loss
        fake = torch.zeros(imgs.size(0), 1).type_as(imgs)
        real_loss = F.binary_cross_entropy_with_logits(self.discriminator(imgs), valid)
        fake_loss = F.binary_cross_entropy_with_logits(self.discriminator(self(z).detach()), fake)
        d_loss = (real_loss + fake_loss) / 2
        self.log("d_loss", d_loss, prog_bar=True)
        return d_loss

    def configure_optimizers(self):
        betas = (self.hparams.b1, self.hparams.b2)
        opt_g = torch.optim.Adam(self.generator.parameters(), lr=self.hparams.lr, betas=betas)
        opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=self.hparams.lr, betas=betas)
        return [opt_g, opt_d], []


def main(args: Namespace) -> None:
    dm = RandomImageDataModule.from_argparse_args(args)
    model = GAN(*dm.dims, **vars(args))
    trainer = pl.Trainer.from_argparse_args(args)
    trainer.fit(model, dm)
    print(f"done: epochs={trainer.current_epoch} max_epochs={trainer.max_epochs} batch_size={dm.batch_size} "
          f"lr={model.hparams.lr} g_loss={'g_loss' in trainer.callback_metrics}")


if __name__ == "__main__":
    pl.seed_everything(1234)
    parser = ArgumentParser()
    parser = pl.Trainer.add_argparse_args(parser)
    parser = RandomImageDataModule.add_argparse_args(parser)
    parser = GAN.add_argparse_args(parser)
    main(parser.parse_args())
