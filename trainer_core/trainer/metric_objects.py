"""torchmetrics ``Metric`` and ``MetricCollection`` objects passed to ``self.log`` / ``self.log_dict``.

The user updates the object (``metric(preds, target)`` or ``metric.update(...)``) in each step; the trainer logs its
forward value for ``on_step`` and calls ``compute()`` once per epoch (torchmetrics synchronises the states across
processes there, as it always does) and ``reset()`` when the epoch's logging is finished.

torchmetrics is never imported here: an object can only be a torchmetrics metric when the user's code imported
torchmetrics already, so looking it up in ``sys.modules`` costs nothing for code that does not use it.
"""

from __future__ import annotations

import sys
from typing import Any

import torch

__all__ = ["is_metric_object", "is_metric_collection", "forward_value", "compute_value"]


def is_metric_object(value: Any) -> bool:
    """True for a torchmetrics ``Metric`` or ``MetricCollection``."""
    torchmetrics = sys.modules.get("torchmetrics")
    if torchmetrics is None:
        return False
    return isinstance(value, (torchmetrics.Metric, torchmetrics.MetricCollection))


def is_metric_collection(value: Any) -> bool:
    torchmetrics = sys.modules.get("torchmetrics")
    return torchmetrics is not None and isinstance(value, torchmetrics.MetricCollection)


def forward_value(metric: Any) -> torch.Tensor | dict[str, torch.Tensor] | None:
    """What the last ``metric(...)`` call returned (the per-step value), or None when only ``update`` was called.

    For a collection: a dict keyed by the collection's (prefixed) names.
    """
    if is_metric_collection(metric):
        values = {name: member._forward_cache for name, member in metric.items()}
        values = {name: value for name, value in values.items() if isinstance(value, torch.Tensor)}
        return values or None
    value = getattr(metric, "_forward_cache", None)
    return value.detach() if isinstance(value, torch.Tensor) else None


def compute_value(metric: Any) -> torch.Tensor | dict[str, torch.Tensor] | None:
    """``metric.compute()``, or None when the metric saw no update in this epoch (torchmetrics would warn)."""
    if is_metric_collection(metric):
        if not any(member.update_count for _, member in metric.items()):
            return None
        return {name: _scalar(value) for name, value in metric.compute().items()}
    if not metric.update_count:
        return None
    return _scalar(metric.compute())


def _scalar(value: Any) -> torch.Tensor:
    tensor = value if isinstance(value, torch.Tensor) else torch.tensor(float(value))
    return tensor.detach().reshape(()) if tensor.numel() == 1 else tensor.detach()
