"""Apply a function to every tensor inside nested batches (tuples, lists, dicts, dataclasses)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

__all__ = ["apply_to_tensors", "move_to_device", "infer_batch_size", "first_tensor"]


def apply_to_tensors(data: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    if isinstance(data, torch.Tensor):
        return fn(data)
    if isinstance(data, Mapping):
        items = {k: apply_to_tensors(v, fn) for k, v in data.items()}
        try:
            return type(data)(items)
        except TypeError:
            return items
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(apply_to_tensors(v, fn) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(apply_to_tensors(v, fn) for v in data)
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return dataclasses.replace(
            data, **{f.name: apply_to_tensors(getattr(data, f.name), fn) for f in dataclasses.fields(data) if f.init}
        )
    if hasattr(data, "to") and callable(data.to) and not isinstance(data, (str, bytes)):
        # Objects such as torch_geometric batches or user classes that know how to move themselves.
        try:
            return fn(data)
        except Exception:
            return data
    return data


def move_to_device(batch: Any, device: torch.device | str) -> Any:
    device = torch.device(device)
    non_blocking = device.type == "cuda"

    def move(t: Any) -> Any:
        if isinstance(t, torch.Tensor) and t.device == device:
            return t
        return t.to(device, non_blocking=non_blocking) if isinstance(t, torch.Tensor) else t.to(device)

    return apply_to_tensors(batch, move)


def first_tensor(data: Any) -> torch.Tensor | None:
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, Mapping):
        data = list(data.values())
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        for item in data:
            found = first_tensor(item)
            if found is not None:
                return found
    return None


def infer_batch_size(batch: Any) -> int:
    """The batch size of a batch: the length of dim 0 of its first tensor (1 when there is none)."""
    tensor = first_tensor(batch)
    if tensor is None or tensor.ndim == 0:
        return 1
    return int(tensor.shape[0])
