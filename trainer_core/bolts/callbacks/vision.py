"""Image callbacks of Bolts: samples of a generator, a latent-space sweep, super-resolution triples, and the
inputs a classifier finds hardest to tell apart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from trainer_core.bolts.callbacks._common import experiment_with
from trainer_core.bolts.callbacks._grid import make_grid
from trainer_core.callback import Callback

__all__ = [
    "ConfusedLogitCallback",
    "LatentDimInterpolator",
    "SRImageLoggerCallback",
    "TensorboardGenerativeModelImageSampler",
]


def _as_images(output: torch.Tensor, pl_module: Any, count: int) -> torch.Tensor:
    """Flat generator outputs become ``N x C x H x W`` using the module's ``img_dim`` (as Bolts expects)."""
    if output.dim() == 2:
        return output.view(count, *pl_module.img_dim)
    return output


class TensorboardGenerativeModelImageSampler(Callback):
    """At the end of every training epoch, generate images from random latents and log them as one grid.

    Needs ``pl_module.hparams.latent_dim`` and, when the generator returns flat vectors, ``pl_module.img_dim``.
    The grid is logged as ``"{ModuleClass}_images"`` at the trainer's global step.

    Args:
        num_samples: images to generate.
        nrow: images per row of the grid.
        padding: pixels between images.
        normalize: scale the grid to 0..1 by ``norm_range`` (default: its min and max).
        norm_range: the value range mapped to 0..1 when normalizing.
        scale_each: normalize each image by itself.
        pad_value: the padding pixels' value.
    """

    def __init__(self, num_samples: int = 3, nrow: int = 8, padding: int = 2, normalize: bool = False,
                 norm_range: tuple[float, float] | None = None, scale_each: bool = False,
                 pad_value: float = 0) -> None:
        self.num_samples = num_samples
        self.nrow = nrow
        self.padding = padding
        self.normalize = normalize
        self.norm_range = norm_range
        self.scale_each = scale_each
        self.pad_value = pad_value

    def sample(self, pl_module: Any) -> torch.Tensor:
        """The generated images (``N x C x H x W``), with the module in eval mode and no gradients."""
        latents = torch.normal(mean=0.0, std=1.0, size=(self.num_samples, pl_module.hparams.latent_dim),
                               device=pl_module.device)
        was_training = pl_module.training
        with torch.no_grad():
            pl_module.eval()
            images = pl_module(latents)
            pl_module.train(was_training)
        return _as_images(images, pl_module, self.num_samples)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        experiment = experiment_with(trainer, "add_image", self)
        if experiment is None:
            return
        grid = make_grid(self.sample(pl_module), nrow=self.nrow, padding=self.padding, normalize=self.normalize,
                         value_range=self.norm_range, scale_each=self.scale_each, pad_value=self.pad_value)
        experiment.add_image(f"{type(pl_module).__name__}_images", grid, global_step=trainer.global_step)


class LatentDimInterpolator(Callback):
    """Every ``interpolate_epoch_interval`` epochs, sweep the first two latent dimensions and log the images.

    The grid has ``steps`` x ``steps`` images: row i holds latent dimension 0 at the i-th value of
    ``linspace(range_start, range_end, steps)``, column j dimension 1 at the j-th value; other dimensions are 0.
    Logged as ``"{ModuleClass}_latent_space"``. Needs ``pl_module.hparams.latent_dim`` (at least 2).

    Args:
        interpolate_epoch_interval: log after every this many epochs.
        range_start: first latent value.
        range_end: last latent value.
        steps: values per dimension.
        num_samples: latents generated per point (the first one's image is shown).
        normalize: scale the grid to 0..1 by its min and max.
    """

    def __init__(self, interpolate_epoch_interval: int = 20, range_start: float = -5, range_end: float = 5,
                 steps: int = 11, num_samples: int = 2, normalize: bool = True) -> None:
        self.interpolate_epoch_interval = interpolate_epoch_interval
        self.range_start = range_start
        self.range_end = range_end
        self.steps = steps
        self.num_samples = num_samples
        self.normalize = normalize

    def on_train_epoch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        if (trainer.current_epoch + 1) % self.interpolate_epoch_interval != 0:
            return
        experiment = experiment_with(trainer, "add_image", self)
        if experiment is None:
            return
        images = torch.cat(self.interpolate_latent_space(pl_module, latent_dim=pl_module.hparams.latent_dim), dim=0)
        grid = make_grid(images, nrow=self.steps, normalize=self.normalize)
        experiment.add_image(f"{type(pl_module).__name__}_latent_space", grid, global_step=trainer.global_step)

    def latent_grid(self, latent_dim: int, device: Any = None) -> torch.Tensor:
        """The swept latents, ``steps**2 x latent_dim`` in grid order (one per image)."""
        values = np.linspace(self.range_start, self.range_end, self.steps)
        latents = torch.zeros(self.steps * self.steps, latent_dim, device=device)
        for i, first in enumerate(values):
            for j, second in enumerate(values):
                latents[i * self.steps + j, 0] = float(first)
                latents[i * self.steps + j, 1] = float(second)
        return latents

    def interpolate_latent_space(self, pl_module: Any, latent_dim: int) -> list[torch.Tensor]:
        """One ``1 x C x H x W`` image per grid point, in row order."""
        images = []
        was_training = pl_module.training
        with torch.no_grad():
            pl_module.eval()
            for latent in self.latent_grid(latent_dim, pl_module.device):
                batch = latent.unsqueeze(0).repeat(self.num_samples, 1)
                image = _as_images(pl_module(batch), pl_module, self.num_samples)
                images.append(image[0].unsqueeze(0))
            pl_module.train(was_training)
        return images


class SRImageLoggerCallback(Callback):
    """Every ``log_interval`` steps, log low-resolution (upscaled), high-resolution and generated images side by
    side as ``"sr_images"``. The training batch is ``(hr_image, lr_image)`` and ``pl_module(lr)`` returns the
    super-resolved image.

    Args:
        log_interval: global steps between two logged grids.
        scale_factor: upscaling from the low- to the high-resolution images.
        num_samples: images from the batch per grid.
    """

    def __init__(self, log_interval: int = 1000, scale_factor: int = 4, num_samples: int = 5) -> None:
        self.log_interval = log_interval
        self.scale_factor = scale_factor
        self.num_samples = num_samples

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           *args: Any) -> None:
        if trainer.global_step % self.log_interval != 0:
            return
        experiment = experiment_with(trainer, "add_image", self)
        if experiment is None:
            return
        hr_image, lr_image = batch
        hr_image, lr_image = hr_image[: self.num_samples], lr_image[: self.num_samples]
        with torch.no_grad():
            sr_image = pl_module(lr_image)
        upscaled = F.interpolate(lr_image, scale_factor=self.scale_factor)
        columns = [make_grid(images, nrow=1, normalize=True) for images in (upscaled, hr_image, sr_image)]
        experiment.add_image("sr_images", torch.cat(columns, dim=-1), global_step=trainer.global_step)


class ConfusedLogitCallback(Callback):
    """Every ``logging_batch_interval`` batches, find inputs whose top-two logits are both high and nearly equal,
    and log a figure (``"confused_images"``) of each input with the gradient of each of the two logits.

    The module must keep its latest logits in ``pl_module.last_logits`` (as in Bolts); the batch is ``(x, y)``.
    Figures need matplotlib.

    Args:
        top_k: most confused inputs shown per figure.
        projection_factor: how far the gradient images are scaled up for display.
        min_logit_value: both logits must be at least this large.
        logging_batch_interval: batches between checks.
        max_logit_difference: the two logits differ by at most this much.
    """

    def __init__(self, top_k: int, projection_factor: int = 3, min_logit_value: float = 5.0,
                 logging_batch_interval: int = 20, max_logit_difference: float = 0.1) -> None:
        self.top_k = top_k
        self.projection_factor = projection_factor
        self.min_logit_value = min_logit_value
        self.logging_batch_interval = logging_batch_interval
        self.max_logit_difference = max_logit_difference

    def confused(self, logits: torch.Tensor) -> torch.Tensor:
        """Indices of up to ``top_k`` rows whose two largest logits are both high and within the difference."""
        top, _ = logits.topk(2, dim=1)
        gap = top[:, 0] - top[:, 1]
        mask = (gap <= self.max_logit_difference) & (top[:, 1] >= self.min_logit_value)
        candidates = torch.nonzero(mask).flatten()
        order = gap[candidates].argsort()
        return candidates[order][: self.top_k]

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           *args: Any) -> None:
        if (batch_idx + 1) % self.logging_batch_interval != 0:
            return
        logits = getattr(pl_module, "last_logits", None)
        if logits is None:
            return
        chosen = self.confused(logits.detach())
        if len(chosen) == 0:
            return
        experiment = experiment_with(trainer, "add_figure", self)
        if experiment is None:
            return
        x, _y = batch
        inputs = x[chosen].detach().clone().requires_grad_(True)
        with torch.enable_grad():
            out = pl_module(inputs)
            top_classes = out.topk(2, dim=1).indices
            grads = [torch.autograd.grad(out.gather(1, top_classes[:, k:k + 1]).sum(), inputs, retain_graph=k == 0)[0]
                     for k in range(2)]
        experiment.add_figure("confused_images", self._figure(inputs.detach(), grads, top_classes),
                              global_step=trainer.global_step)

    def _figure(self, inputs: torch.Tensor, grads: Sequence[torch.Tensor], classes: torch.Tensor) -> Any:
        from matplotlib.figure import Figure  # a bare Figure: no pyplot, no GUI backend in the training process

        rows = len(inputs)
        figure = Figure(figsize=(3 * self.projection_factor, rows * self.projection_factor))
        for row in range(rows):
            panels = [(inputs[row], "input")] + [(grads[k][row], f"d logit {int(classes[row, k])}") for k in range(2)]
            for col, (image, title) in enumerate(panels):
                axes = figure.add_subplot(rows, 3, row * 3 + col + 1)
                picture = image.float().cpu()
                picture = picture.mean(0) if picture.dim() == 3 else picture  # channels averaged for display
                picture = picture.reshape(1, -1) if picture.dim() == 1 else picture  # feature vectors as a strip
                axes.imshow(picture.numpy(), cmap="gray" if col == 0 else "coolwarm")
                axes.set_title(title, fontsize=8)
                axes.axis("off")
        return figure
