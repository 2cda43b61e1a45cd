"""What ``LightningModule.all_gather``, ``to_torchscript`` and ``to_onnx`` do (1.x semantics), kept out of
``module.py`` so the module class stays about training."""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import torch
from torch import nn

from trainer_core.exceptions import MisconfigurationError
from trainer_core.utilities.apply import apply_to_tensors

__all__ = ["all_gather", "numbers_to_tensors", "to_onnx", "to_torchscript"]


def all_gather(trainer: Any, data: Any, group: Any = None, sync_grads: bool = False,
               device: torch.device | None = None) -> Any:
    """Every tensor in ``data`` gathered from all processes, stacked on a new first dimension of size world_size.

    Python numbers and numpy arrays in ``data`` become tensors on ``device`` first (1.5 did the same, so
    ``all_gather(running_loss).mean()`` works on a float). In one process (or without a trainer) tensors come
    back unchanged, as in 1.x. ``sync_grads=True`` keeps the gather in the autograd graph, so gradients flow back
    to each rank's tensor.
    """
    data = numbers_to_tensors(data, device)
    world_size = getattr(trainer, "world_size", 1) if trainer is not None else 1
    if world_size <= 1:
        return data
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        return data
    group = group if group is not None else dist.group.WORLD

    def gather(tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.contiguous()
        if sync_grads:
            from torch.distributed.nn.functional import all_gather as differentiable_all_gather

            return torch.stack(differentiable_all_gather(tensor, group=group))
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size(group))]
        dist.all_gather(parts, tensor, group=group)
        return torch.stack(parts)

    return apply_to_tensors(data, gather)


class _EvalMode:
    """The module in eval mode for an export, back in its previous mode afterwards."""

    def __init__(self, module: nn.Module) -> None:
        self.module, self.was_training = module, module.training

    def __enter__(self) -> nn.Module:
        return self.module.eval()

    def __exit__(self, *exc: object) -> None:
        self.module.train(self.was_training)


class _engine_properties_unused:  # noqa: N801  (used as a context manager, reads as a phrase)
    """TorchScript compiles every property of a module's class; the engine's own (``trainer``, ``hparams``,
    ``device``...) are Python-only, so the class lists them in ``__jit_unused_properties__`` during the export."""

    def __init__(self, module: nn.Module) -> None:
        self.cls = type(module)
        self.previous = vars(self.cls).get("__jit_unused_properties__")

    def __enter__(self) -> None:
        names = {name for cls in self.cls.__mro__ if cls.__module__.startswith("trainer_core.")
                 for name, value in vars(cls).items() if isinstance(value, property)}
        names.update(getattr(self.cls, "__jit_unused_properties__", []))
        self.cls.__jit_unused_properties__ = sorted(names)  # type: ignore[attr-defined]

    def __exit__(self, *exc: object) -> None:
        if self.previous is None:
            del self.cls.__jit_unused_properties__  # type: ignore[attr-defined]
        else:
            self.cls.__jit_unused_properties__ = self.previous  # type: ignore[attr-defined]


def _example(module: Any, given: Any, what: str, argument: str) -> Any:
    sample = given if given is not None else getattr(module, "example_input_array", None)
    if sample is None:
        raise MisconfigurationError(
            f"{what} needs an example input: pass `{argument}=` or set `self.example_input_array` in the module")
    return sample


def numbers_to_tensors(data: Any, device: torch.device | None = None) -> Any:
    """``data`` with every int, float and numpy array (also inside dicts, lists and tuples) made a tensor.

    A structure with nothing to convert is returned as the same object.
    """
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        return torch.tensor(data, device=device)
    if type(data).__module__ == "numpy" and hasattr(data, "__array__"):  # ndarray or numpy scalar, numpy unimported
        return torch.as_tensor(data, device=device)
    if isinstance(data, dict):
        converted = {key: numbers_to_tensors(value, device) for key, value in data.items()}
        return data if all(converted[k] is data[k] for k in data) else type(data)(converted)
    if isinstance(data, (list, tuple)):
        items = [numbers_to_tensors(value, device) for value in data]
        if all(new is old for new, old in zip(items, data)):
            return data
        return type(data)(*items) if hasattr(data, "_fields") else type(data)(items)
    return data


def to_torchscript(module: Any, file_path: str | os.PathLike[str] | None = None, method: str = "script",
                   example_inputs: Any = None, **kwargs: Any) -> torch.jit.ScriptModule:
    """The module compiled with ``torch.jit.script`` (``method="script"``) or ``torch.jit.trace`` (``"trace"``).

    Tracing uses ``example_inputs`` or the module's ``example_input_array``. With ``file_path`` the result is also
    saved with ``torch.jit.save``.
    """
    with _EvalMode(module):
        if method == "script":
            with _engine_properties_unused(module):
                scripted = torch.jit.script(module, **kwargs)
        elif method == "trace":
            inputs = _example(module, example_inputs, 'to_torchscript(method="trace")', "example_inputs")
            device = getattr(module, "device", torch.device("cpu"))
            inputs = apply_to_tensors(inputs, lambda t: t.to(device))
            scripted = torch.jit.trace(module, inputs, **kwargs)
        else:
            raise ValueError(f'to_torchscript(method={method!r}): use method="script" or method="trace"')
    if file_path is not None:
        torch.jit.save(scripted, os.fspath(file_path))
    return scripted


def to_onnx(module: Any, file_path: str | os.PathLike[str], input_sample: Any = None, **kwargs: Any) -> None:
    """Export the module to an ONNX file with ``torch.onnx.export`` (needs the optional ``onnx`` package).

    The input is ``input_sample`` or the module's ``example_input_array``; ``kwargs`` go to ``torch.onnx.export``.
    Without ``onnxscript`` (needed by PyTorch's newer exporter) the TorchScript-based exporter is used.
    """
    if importlib.util.find_spec("onnx") is None:
        raise MisconfigurationError("to_onnx needs the `onnx` package, which is not installed: pip install onnx")
    sample = _example(module, input_sample, "to_onnx", "input_sample")
    if "dynamo" not in kwargs and importlib.util.find_spec("onnxscript") is None:
        kwargs["dynamo"] = False
    device = getattr(module, "device", torch.device("cpu"))
    sample = apply_to_tensors(sample, lambda t: t.to(device))
    args = tuple(sample) if isinstance(sample, list) else sample if isinstance(sample, tuple) else (sample,)
    with _EvalMode(module):
        torch.onnx.export(module, args, os.fspath(file_path), **kwargs)
