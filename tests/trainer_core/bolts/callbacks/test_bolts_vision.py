"""Image callbacks: what they generate and log (a known latent grid, samples, SR triples, confused logits)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from tests.trainer_core.bolts.callbacks.bolts_fixtures import trainer_with_recorder
from trainer_core.bolts.callbacks import (
    ConfusedLogitCallback,
    LatentDimInterpolator,
    SRImageLoggerCallback,
    TensorboardGenerativeModelImageSampler,
)
from trainer_core.bolts.callbacks._grid import make_grid


class LatentEcho(nn.Module):
    """A 'generator' whose 1x2x2 image shows its latent: pixel (0,0) = z0, (0,1) = z1, the rest 0."""

    def __init__(self, latent_dim: int = 3) -> None:
        super().__init__()
        self.hparams = SimpleNamespace(latent_dim=latent_dim)
        self.img_dim = (1, 2, 2)
        self.anchor = nn.Parameter(torch.zeros(1))

    @property
    def device(self) -> torch.device:
        return self.anchor.device

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        flat = torch.zeros(z.size(0), 4)
        flat[:, 0], flat[:, 1] = z[:, 0], z[:, 1]
        return flat  # flat vectors: the callbacks reshape them with img_dim


def test_latent_grid_sweeps_the_first_two_dimensions() -> None:
    interpolator = LatentDimInterpolator(range_start=-1, range_end=1, steps=3)
    grid = interpolator.latent_grid(latent_dim=4)
    assert grid.shape == (9, 4)
    assert grid[:, 0].tolist() == [-1, -1, -1, 0, 0, 0, 1, 1, 1]
    assert grid[:, 1].tolist() == [-1, 0, 1] * 3
    assert (grid[:, 2:] == 0).all()


def test_interpolator_logs_the_grid_every_interval_and_restores_train_mode() -> None:
    module = LatentEcho()
    module.train()
    interpolator = LatentDimInterpolator(interpolate_epoch_interval=2, range_start=-1, range_end=1, steps=3,
                                         normalize=False)
    trainer, experiment = trainer_with_recorder(current_epoch=0, global_step=7)
    interpolator.on_train_epoch_end(trainer, module)
    assert experiment.calls == [], "epoch 1 of every 2: nothing yet"
    trainer.current_epoch = 1
    interpolator.on_train_epoch_end(trainer, module)
    method, tag, grid, step = experiment.calls[0]
    assert (method, tag, step) == ("add_image", "LatentEcho_latent_space", 7)
    images = interpolator.interpolate_latent_space(module, latent_dim=3)
    assert [float(image[0, 0, 0, 0]) for image in images] == [-1, -1, -1, 0, 0, 0, 1, 1, 1]
    assert grid.shape == (3, 3 * 2 + 4 * 2, 3 * 2 + 4 * 2)  # 3x3 tiles of 2x2 with 2-pixel padding, 3 channels
    assert float(grid[0, 2, 2]) == -1 and float(grid[0, 2, 3]) == -1  # first tile: z0=-1, z1=-1
    assert module.training


def test_sampler_logs_num_samples_generated_images_as_one_grid() -> None:
    torch.manual_seed(0)
    module = LatentEcho()
    sampler = TensorboardGenerativeModelImageSampler(num_samples=4, nrow=2, padding=0)
    trainer, experiment = trainer_with_recorder(global_step=3)
    sampler.on_train_epoch_end(trainer, module)
    method, tag, grid, step = experiment.calls[0]
    assert (method, tag, step) == ("add_image", "LatentEcho_images", 3)
    assert grid.shape == (3, 4, 4)  # 2x2 images of 2x2 pixels


def test_sampler_without_an_image_logger_warns_once_and_keeps_training() -> None:
    from tests.helpers.fake_trainer import FakeTrainer

    sampler = TensorboardGenerativeModelImageSampler()
    with pytest.warns(UserWarning, match="add_image.*logger=True"):
        sampler.on_train_epoch_end(FakeTrainer(), LatentEcho())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sampler.on_train_epoch_end(FakeTrainer(), LatentEcho())  # a second warning would raise here


def test_make_grid_without_torchvision_matches_its_layout() -> None:
    images = torch.arange(3 * 1 * 2 * 2, dtype=torch.float32).view(3, 1, 2, 2)
    grid = make_grid(images, nrow=2, padding=1, pad_value=-1)
    assert grid.shape == (3, 2 * 3 + 1, 2 * 3 + 1)
    assert grid[0, 1:3, 1:3].tolist() == [[0, 1], [2, 3]]
    assert grid[0, 1:3, 4:6].tolist() == [[4, 5], [6, 7]]
    assert grid[0, 4:6, 1:3].tolist() == [[8, 9], [10, 11]]
    assert (grid[:, 4:6, 4:6] == -1).all(), "the empty cell stays padding"
    normalized = make_grid(images, normalize=True)
    assert float(normalized.min()) == 0.0 and float(normalized.max()) == 1.0


class Doubler(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(x, scale_factor=2)


def test_sr_logger_puts_low_high_and_generated_side_by_side() -> None:
    callback = SRImageLoggerCallback(log_interval=10, scale_factor=2, num_samples=2)
    trainer, experiment = trainer_with_recorder(global_step=5)
    hr, lr = torch.rand(4, 3, 8, 8), torch.rand(4, 3, 4, 4)
    callback.on_train_batch_end(trainer, Doubler(), None, (hr, lr), 0)
    assert experiment.calls == []
    trainer.global_step = 10
    callback.on_train_batch_end(trainer, Doubler(), None, (hr, lr), 0)
    _method, tag, grid, _step = experiment.calls[0]
    column_width = 8 + 2 * 2
    assert tag == "sr_images" and grid.shape == (3, 2 * 8 + 3 * 2, 3 * column_width)


class Confusable(nn.Module):
    """Logits (6.01, 6) for inputs whose features are 1: both classes high and nearly equally likely."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        first = x[:, :1]
        return torch.cat([6 * first + x[:, 1:2] * 0.01, 6 * first], dim=1)


def test_confused_logit_finds_the_close_high_pairs_and_logs_a_figure() -> None:
    pytest.importorskip("matplotlib")
    callback = ConfusedLogitCallback(top_k=2, logging_batch_interval=1, min_logit_value=5.0,
                                     max_logit_difference=0.1)
    logits = torch.tensor([[6.0, 6.05], [9.0, 1.0], [5.5, 5.48], [1.0, 1.05]])
    assert callback.confused(logits).tolist() == [2, 0]  # smallest gap first; row 3 too low, row 1 too far apart
    module = Confusable()
    x = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    module.last_logits = module(x)
    trainer, experiment = trainer_with_recorder(global_step=2)
    callback.on_train_batch_end(trainer, module, None, (x, torch.tensor([0, 1])), 0)
    method, tag, figure, step = experiment.calls[0]
    assert (method, tag, step) == ("add_figure", "confused_images", 2)
    assert len(figure.axes) == 3, "one row: the input and the gradient of each of the two logits"
