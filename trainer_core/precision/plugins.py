"""Precision plugins.

Each plugin answers the same questions with no-op defaults: how to convert the module and the inputs, which context
wraps forward passes, how to run backward and the optimizer step, and what state goes into a checkpoint. The training
step is written once; the plugin changes only what differs (Fabric's design, not one copy of the step per mode).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.utilities.apply import apply_to_tensors

__all__ = ["Precision", "MixedPrecision", "DoublePrecision", "HalfTruePrecision", "StepClosure", "select_precision"]

log = logging.getLogger(__name__)


class StepClosure:
    """What ``LightningOptimizer.step`` hands the plugin once the training closure has run (forward and backward done).

    Calling it returns the loss. Plugins recognise it and call ``optimizer.step()`` without a closure, which spares
    the optimizer's ``enable_grad`` block around a closure that would do nothing (a few microseconds per step).
    """

    __slots__ = ("loss",)

    def __init__(self, loss: Any) -> None:
        self.loss = loss

    def __call__(self) -> Any:
        return self.loss


class Precision:
    """Full 32-bit precision: every method is the plain PyTorch behaviour."""

    name = "32-true"
    scaler: Any = None

    def convert_module(self, module: torch.nn.Module) -> torch.nn.Module:
        return module

    def convert_input(self, batch: Any) -> Any:
        return batch

    def forward_context(self) -> Any:
        return nullcontext()

    def backward(self, loss: torch.Tensor, backward_fn: Callable[[torch.Tensor], None]) -> None:
        backward_fn(loss)

    def unscale_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        """Make gradients true-scale before hooks, norm tracking and clipping (a no-op without a scaler)."""

    def optimizer_step(self, optimizer: torch.optim.Optimizer, closure: Callable[[], Any]) -> Any:
        if type(closure) is StepClosure and not isinstance(optimizer, torch.optim.LBFGS):
            optimizer.step()
            return closure.loss
        return optimizer.step(closure=closure)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""

    @property
    def bits(self) -> int:
        return 32


class MixedPrecision(Precision):
    """Autocast in float16 (with a GradScaler, CUDA) or bfloat16 (no scaler, CPU and CUDA)."""

    def __init__(self, dtype: torch.dtype, device_type: str, scaler: Any = None) -> None:
        self.dtype = dtype
        self.device_type = device_type
        self.scaler = scaler
        self.name = "16-mixed" if dtype == torch.float16 else "bf16-mixed"
        self._unscaled: set[int] = set()

    def forward_context(self) -> Any:
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, backward_fn: Callable[[torch.Tensor], None]) -> None:
        backward_fn(self.scaler.scale(loss) if self.scaler is not None else loss)

    def unscale_gradients(self, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is not None and id(optimizer) not in self._unscaled:
            self.scaler.unscale_(optimizer)
            self._unscaled.add(id(optimizer))

    def optimizer_step(self, optimizer: torch.optim.Optimizer, closure: Callable[[], Any]) -> Any:
        if self.scaler is None:
            return super().optimizer_step(optimizer, closure)
        if isinstance(optimizer, torch.optim.LBFGS):
            raise MisconfigurationError("precision=16 with a GradScaler cannot drive LBFGS; use precision=32")
        result = closure()  # GradScaler.step does not take closures: run it first
        self.unscale_gradients(optimizer)
        self.scaler.step(optimizer)  # skipped by the scaler when gradients hold inf/NaN
        self.scaler.update()
        self._unscaled.discard(id(optimizer))
        return result

    def state_dict(self) -> dict[str, Any]:
        return self.scaler.state_dict() if self.scaler is not None else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if self.scaler is not None and state:
            self.scaler.load_state_dict(state)

    @property
    def bits(self) -> int:
        return 16


class DoublePrecision(Precision):
    """Model parameters and floating inputs in float64."""

    name = "64-true"

    def convert_module(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.double()

    def convert_input(self, batch: Any) -> Any:
        return apply_to_tensors(batch, lambda t: t.double() if torch.is_floating_point(t) else t)

    @property
    def bits(self) -> int:
        return 64


class HalfTruePrecision(Precision):
    """Parameters and floating inputs entirely in float16 or bfloat16 (2.x "16-true"/"bf16-true")."""

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype
        self.name = "16-true" if dtype == torch.float16 else "bf16-true"

    def convert_module(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.to(self.dtype)

    def convert_input(self, batch: Any) -> Any:
        return apply_to_tensors(batch, lambda t: t.to(self.dtype) if torch.is_floating_point(t) else t)

    @property
    def bits(self) -> int:
        return 16


def select_precision(precision: str, device: torch.device, amp_backend: str = "native",
                     amp_level: str | None = None, plugins: Any = None) -> Precision:
    """The plugin for a normalised precision string on ``device``.

    A :class:`Precision` instance among ``plugins`` (the Trainer's ``plugins`` flag) wins over the string, so a
    custom plugin (for example a scaler on the CPU) can be given to the Trainer.
    """
    given = [p for p in (plugins if isinstance(plugins, (list, tuple)) else [plugins]) if isinstance(p, Precision)]
    if len(given) > 1:
        raise MisconfigurationError(
            f"plugins holds {len(given)} precision plugins ({', '.join(type(p).__name__ for p in given)}); "
            "pass at most one")
    if given:
        if precision != "32-true":
            raise MisconfigurationError(
                f"precision={precision!r} and a precision plugin ({type(given[0]).__name__}) were both given; "
                "leave precision at its default when passing a plugin")
        return given[0]
    if amp_backend == "apex" or amp_level is not None:
        try:
            import apex  # noqa: F401
        except ImportError as err:
            raise MisconfigurationError(
                f"amp_backend={amp_backend!r}, amp_level={amp_level!r} need NVIDIA apex, which is not installed. "
                "Use native mixed precision instead: precision=16 (or \"16-mixed\") without amp_backend/amp_level"
            ) from err
        raise MisconfigurationError("apex AMP is not supported by trainer_core; use native AMP (precision=16)")
    if precision == "32-true":
        return Precision()
    if precision == "64-true":
        return DoublePrecision()
    if precision == "16-true":
        return HalfTruePrecision(torch.float16)
    if precision == "bf16-true":
        return HalfTruePrecision(torch.bfloat16)
    if precision == "16-mixed":
        if device.type != "cuda":
            warnings.warn(
                "precision=16 needs a CUDA device; on the CPU mixed precision runs in bfloat16 instead "
                "(precision=\"bf16\")", UserWarning, stacklevel=3,
            )
            return MixedPrecision(torch.bfloat16, device.type)
        return MixedPrecision(torch.float16, "cuda", torch.amp.GradScaler("cuda"))
    if precision == "bf16-mixed":
        return MixedPrecision(torch.bfloat16, device.type)
    raise MisconfigurationError(f"unknown precision {precision!r}")
