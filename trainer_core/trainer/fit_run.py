"""The per-fit step plan: what one training step needs to know, decided once when a fit starts.

A fit's step behaves the same for every batch unless the user changes the trainer or module mid-run, which the
loop does not support. So the questions "is the forward plain?", "does clipping run?", "which gradient norm is
tracked?" are answered here once and read by the step as plain attributes, instead of being recomputed
per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from trainer_core.hooks import profiling_enabled
from trainer_core.module import LightningModule
from trainer_core.precision.plugins import Precision
from trainer_core.trainer.numerics import grad_norm_type

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["FitRun", "plan_fit", "profiling_enabled", "profile", "timed"]

_NULL = nullcontext()
_T = TypeVar("_T")


@dataclass
class FitRun:
    """One fit's constant step plan and its per-batch scratch state.

    Attributes:
        profiling: a real profiler is set (regions are opened; otherwise a shared no-op context is used).
        plain_forward: full precision and no profiler: ``training_step`` is called without context managers.
        plain_backward: the precision plugin does not scale the loss, no profiler and no anomaly detection: the
            ``backward`` hook is called directly, without context managers (on a batch that steps).
        step_end: the module implements ``training_step_end``.
        clipping: ``configure_gradient_clipping`` runs (clipping is on, or the module customises clipping).
        accumulate: ``accumulate_grad_batches`` for this epoch (1 = step every batch).
        automatic: the module's ``automatic_optimization`` for this epoch.
        grad_norm_type: the p of gradient norms to compute per step, or None.
        validation: validation runs in this fit (``validation_step`` defined and not limited to 0 batches).
        stepped_this_batch: an optimizer step happened in the current batch (drives the step-interval schedulers).
        stepped_optimizers: the indices of the optimizers that stepped in the current batch (automatic
            optimization): only their step-interval schedulers are stepped.
    """

    profiling: bool
    plain_forward: bool
    plain_backward: bool
    step_end: bool
    clipping: bool
    accumulate: int
    automatic: bool
    grad_norm_type: float | None
    validation: bool
    stepped_this_batch: bool = False
    stepped_optimizers: list[int] = field(default_factory=list)


def profile(trainer: Trainer, action: str) -> Any:
    """The profiler region for ``action``, or a shared no-op context when nothing is profiled."""
    return trainer.profiler.profile(action) if trainer._profiling else _NULL


def timed(run: FitRun, trainer: Trainer, action: str, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)``, inside the profiler region ``action`` only when a profiler records.

    The per-step form of :func:`profile`: without a profiler it costs one call, not a context manager's three.
    """
    if not run.profiling:
        return fn(*args, **kwargs)
    with trainer.profiler.profile(action):
        return fn(*args, **kwargs)


def plan_fit(trainer: Trainer) -> FitRun:
    """Decide the step plan for the fit that is starting (hooks must already be resolved for this stage)."""
    hooks, module = trainer._hooks, trainer.lightning_module
    clip_customised = (type(module).configure_gradient_clipping is not LightningModule.configure_gradient_clipping
                       or type(module).clip_gradients is not LightningModule.clip_gradients)
    profiling = profiling_enabled(trainer.profiler)
    precision = type(trainer._precision)
    return FitRun(
        profiling=profiling,
        plain_forward=not profiling and precision.forward_context is Precision.forward_context,
        plain_backward=not profiling and precision.backward is Precision.backward and not trainer.detect_anomaly,
        step_end=hooks.module_overrides("training_step_end"),
        clipping=bool(trainer.gradient_clip_val) or clip_customised,
        accumulate=trainer.accumulate_grad_batches,
        automatic=module.automatic_optimization,
        grad_norm_type=grad_norm_type(trainer),
        validation=hooks.module_overrides("validation_step") and trainer.limit_val_batches != 0,
    )
