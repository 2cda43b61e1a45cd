"""An image grid like ``torchvision.utils.make_grid``, which is used when torchvision is installed.

torchvision has no CPU build beside our torch on the package index, so the Bolts callbacks must not need it; this
small version covers the arguments they pass.
"""

from __future__ import annotations

import importlib.util
import math

import torch

__all__ = ["make_grid"]


def make_grid(tensor: torch.Tensor | list[torch.Tensor], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> torch.Tensor:
    """Tile a batch of ``C x H x W`` images into one ``3 x H' x W'`` image with ``nrow`` images per row.

    Args:
        tensor: ``N x C x H x W`` (C in 1 or 3), or a list of ``C x H x W`` images.
        nrow: images per row.
        padding: pixels between images and around the grid.
        normalize: shift and scale to 0..1 using ``value_range`` (default: the images' min and max).
        value_range: the ``(low, high)`` that maps to 0..1 when normalizing.
        scale_each: normalize each image by its own min and max.
        pad_value: the value of the padding pixels.
    """
    if importlib.util.find_spec("torchvision") is not None:
        from torchvision.utils import make_grid as vision_grid

        return vision_grid(tensor, nrow=nrow, padding=padding, normalize=normalize, value_range=value_range,
                           scale_each=scale_each, pad_value=pad_value)
    batch = torch.stack(list(tensor)) if isinstance(tensor, (list, tuple)) else tensor
    if batch.dim() == 2:
        batch = batch.unsqueeze(0)
    if batch.dim() == 3:
        batch = batch.unsqueeze(0) if batch.size(0) in (1, 3) else batch.unsqueeze(1)
    if batch.size(1) == 1:
        batch = batch.expand(-1, 3, -1, -1)
    batch = batch.clone().float()
    if batch.size(0) == 1:
        return _normalized(batch, normalize, value_range, scale_each)[0]
    batch = _normalized(batch, normalize, value_range, scale_each)
    count, channels, height, width = batch.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    grid = batch.new_full((channels, rows * (height + padding) + padding, columns * (width + padding) + padding),
                          pad_value)
    for index in range(count):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[:, top:top + height, left:left + width] = batch[index]
    return grid


def _normalized(batch: torch.Tensor, normalize: bool, value_range: tuple[float, float] | None,
                scale_each: bool) -> torch.Tensor:
    if normalize:
        for image in (batch if scale_each else [batch]):
            low, high = value_range if value_range is not None else (float(image.min()), float(image.max()))
            image.clamp_(min=low, max=high).sub_(low).div_(max(high - low, 1e-5))
    return batch
