"""Truncated back-propagation through time: the 1.x default batch splitter."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError

__all__ = ["split_batch", "check_tbptt_signature"]


def split_batch(batch: Any, split_size: int) -> list[Any]:
    """Split every tensor of ``batch`` on dim 1 and every Python sequence per sample into chunks of ``split_size``.

    All split elements must have the same time length; the last chunk may be shorter (T=15, k=2 gives 8 splits).
    """
    if not isinstance(batch, Sequence) or isinstance(batch, (str, bytes)):
        batch = [batch]
    time_dims = set()
    for x in batch:
        if isinstance(x, torch.Tensor):
            if x.ndim < 2:
                raise MisconfigurationError(
                    f"truncated_bptt_steps splits tensors on dim 1 (batch, time, ...), but a batch element has "
                    f"shape {tuple(x.shape)}. Override tbptt_split_batch for other layouts")
            time_dims.add(x.shape[1])
        elif isinstance(x, Sequence) and not isinstance(x, (str, bytes)) and x and isinstance(
                x[0], Sequence):
            time_dims.add(len(x[0]))
    if len(time_dims) != 1:
        raise MisconfigurationError(
            f"truncated_bptt_steps: the time dimension length is ambiguous ({sorted(time_dims)}); all sequence "
            "elements of the batch need the same length on dim 1, or override tbptt_split_batch")
    total = time_dims.pop()
    splits = []
    for start in range(0, total, split_size):
        split = []
        for x in batch:
            if isinstance(x, torch.Tensor):
                split.append(x[:, start:start + split_size])
            elif isinstance(x, Sequence) and not isinstance(x, (str, bytes)) and x and isinstance(x[0], Sequence):
                split.append([sample[start:start + split_size] for sample in x])
            else:
                split.append(x)
        splits.append(split)
    return splits


def check_tbptt_signature(module: Any) -> None:
    params = inspect.signature(module.training_step).parameters
    if "hiddens" not in params and not any(p.kind == p.VAR_POSITIONAL for p in params.values()):
        raise MisconfigurationError(
            f"truncated_bptt_steps is on, so {type(module).__name__}.training_step must accept the hidden state: "
            "`def training_step(self, batch, batch_idx, hiddens)` returning {'loss': loss, 'hiddens': hiddens}")
