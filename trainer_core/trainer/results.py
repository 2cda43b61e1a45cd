"""What ``self.log`` records: step values, epoch aggregates, and the names they are published under.

Values stay tensors on their device until something reads them (the logger at its cadence, the progress bar at its
refresh rate, a callback asking for ``callback_metrics``), so logging costs no host synchronisation per step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError

__all__ = ["ResultCollection", "LoggedMetric", "hook_log_defaults", "to_floats"]

_REDUCE = ("mean", "sum", "max", "min")

# Hooks whose logs default to on_step=True, on_epoch=False.
_STEP_HOOKS = frozenset({
    "training_step", "training_step_end", "on_train_batch_start", "on_train_batch_end", "on_batch_start",
    "on_batch_end", "on_before_backward", "backward", "on_after_backward", "on_before_optimizer_step",
    "optimizer_step", "on_before_zero_grad", "optimizer_zero_grad", "log_grad_norm", "configure_gradient_clipping",
    "clip_gradients", "on_lr_find_point",
})
# Hooks where logging is allowed only per epoch.
_EPOCH_ONLY_HOOKS = frozenset({
    "training_epoch_end", "validation_epoch_end", "test_epoch_end", "on_train_epoch_end", "on_validation_epoch_end",
    "on_test_epoch_end", "on_epoch_end", "on_train_start", "on_validation_start", "on_test_start",
    "on_train_epoch_start", "on_validation_epoch_start", "on_test_epoch_start", "on_epoch_start",
})
# Hooks where step or epoch logging is allowed, defaulting to epoch (evaluation batches).
_EVAL_HOOKS = frozenset({
    "validation_step", "validation_step_end", "test_step", "test_step_end", "on_validation_batch_start",
    "on_validation_batch_end", "on_test_batch_start", "on_test_batch_end",
})


def hook_log_defaults(fx: str | None, on_step: bool | None, on_epoch: bool | None) -> tuple[bool, bool]:
    """Resolve on_step/on_epoch for a log call made in hook ``fx``; reject hooks where logging is not allowed."""
    if fx in _STEP_HOOKS:
        defaults = (True, False)
    elif fx in _EVAL_HOOKS:
        defaults = (False, True)
    elif fx in _EPOCH_ONLY_HOOKS:
        if on_step:
            raise MisconfigurationError(f"You can't `self.log(..., on_step=True)` in `{fx}`: it runs once per epoch")
        defaults = (False, True)
    else:
        raise MisconfigurationError(
            f"`self.log` is not allowed in `{fx}`. Log from training_step, validation_step, test_step, the "
            "*_epoch_end methods or the batch/epoch hooks"
        )
    return (defaults[0] if on_step is None else bool(on_step), defaults[1] if on_epoch is None else bool(on_epoch))


@dataclass(eq=False)
class LoggedMetric:
    """One logged name in one stage, with its options and what has been recorded."""

    name: str
    on_step: bool
    on_epoch: bool
    prog_bar: bool
    logger: bool
    reduce_fx: str
    sync_dist: bool
    step_value: torch.Tensor | None = None
    step_serial: int = -1
    values: list[Any] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    @property
    def forked(self) -> bool:
        return self.on_step and self.on_epoch

    @property
    def step_name(self) -> str:
        return f"{self.name}_step" if self.forked else self.name

    @property
    def epoch_name(self) -> str:
        return f"{self.name}_epoch" if self.forked else self.name

    def epoch_value(self, reduce: Callable[[torch.Tensor, str], torch.Tensor] | None) -> torch.Tensor | None:
        if not self.values:
            return None
        stacked = torch.stack([v if isinstance(v, torch.Tensor) else torch.tensor(float(v)) for v in _same_device(
            self.values)]).float()
        if self.reduce_fx == "mean":
            weights = torch.tensor(self.sizes, dtype=stacked.dtype, device=stacked.device)
            total, count = (stacked * weights).sum(), weights.sum()
            if reduce is not None:
                total, count = reduce(total, "sum"), reduce(count, "sum")
            return total / count
        if self.reduce_fx == "sum":
            value = stacked.sum()
            return reduce(value, "sum") if reduce is not None else value
        value = stacked.max() if self.reduce_fx == "max" else stacked.min()
        return reduce(value, self.reduce_fx) if reduce is not None else value


def _same_device(values: list[Any]) -> list[Any]:
    devices = {v.device for v in values if isinstance(v, torch.Tensor)}
    if len(devices) <= 1:
        return values
    return [v.cpu() if isinstance(v, torch.Tensor) else v for v in values]


class ResultCollection:
    """The metrics logged during one stage run (a training epoch, or one validation/test/predict run)."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.metrics: dict[str, LoggedMetric] = {}
        # Incremented once per batch by the loop; a step value is "fresh" when logged in the current batch.
        self.batch_serial = 0
        self.batch_size_fn: Callable[[], int] = _one
        self.dataloader_idx: int | None = None
        self.num_dataloaders = 1
        self.callback_metrics: dict[str, Any] | None = None  # the trainer's dict, updated in place on step logs
        self.progress_bar_tensors: dict[str, Any] | None = None

    def reset(self) -> None:
        self.metrics.clear()

    def log(self, fx: str | None, name: str, value: Any, *, prog_bar: bool, logger: bool, on_step: bool | None,
            on_epoch: bool | None, reduce_fx: Any, enable_graph: bool, sync_dist: bool, add_dataloader_idx: bool,
            batch_size: int | None) -> None:
        if "/dataloader_idx_" in name:
            raise MisconfigurationError(f"metric name {name!r} must not contain '/dataloader_idx_' (added for you)")
        step, epoch = hook_log_defaults(fx, on_step, on_epoch)
        reduce_name = _reduce_name(reduce_fx, name)
        if add_dataloader_idx and self.dataloader_idx is not None and self.num_dataloaders > 1:
            name = f"{name}/dataloader_idx_{self.dataloader_idx}"
        tensor = _as_tensor(value, name, enable_graph)
        metric = self.metrics.get(name)
        if metric is None:
            metric = LoggedMetric(name, step, epoch, prog_bar, logger, reduce_name, sync_dist)
            self.metrics[name] = metric
        if step:
            metric.step_value = tensor
            metric.step_serial = self.batch_serial
            if self.callback_metrics is not None:
                self.callback_metrics[name] = tensor
                if metric.forked:
                    self.callback_metrics[metric.step_name] = tensor
            if prog_bar and self.progress_bar_tensors is not None:
                self.progress_bar_tensors[metric.step_name] = tensor
        if epoch:
            metric.values.append(tensor)
            metric.sizes.append(batch_size if batch_size is not None else self.batch_size_fn())

    def fresh_step_metrics(self) -> dict[str, torch.Tensor]:
        """Step values logged in the current batch that go to the logger, under their published names."""
        serial = self.batch_serial
        return {
            m.step_name: m.step_value
            for m in self.metrics.values()
            if m.logger and m.step_serial == serial and m.step_value is not None
        }

    def epoch_metrics(self, reduce: Callable[[torch.Tensor, str], torch.Tensor] | None = None
                      ) -> list[tuple[LoggedMetric, torch.Tensor]]:
        out = []
        for metric in self.metrics.values():
            if metric.on_epoch:
                value = metric.epoch_value(reduce if metric.sync_dist else None)
                if value is not None:
                    out.append((metric, value))
        return out


def _one() -> int:
    return 1


def _reduce_name(reduce_fx: Any, name: str) -> str:
    if callable(reduce_fx):
        mapping = {torch.mean: "mean", torch.sum: "sum", torch.max: "max", torch.min: "min", max: "max",
                   min: "min", sum: "sum"}
        if reduce_fx in mapping:
            return mapping[reduce_fx]
    elif isinstance(reduce_fx, str) and reduce_fx.lower() in _REDUCE:
        return reduce_fx.lower()
    raise MisconfigurationError(
        f"self.log({name!r}, reduce_fx={reduce_fx!r}): reduce_fx must be one of {', '.join(_REDUCE)}"
    )


def _as_tensor(value: Any, name: str, enable_graph: bool) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise MisconfigurationError(
                f"self.log({name!r}, ...) needs a scalar, got a tensor of shape {tuple(value.shape)}; "
                "reduce it first (for example value.mean())"
            )
        value = value if enable_graph else value.detach()
        return value.reshape(())
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if hasattr(value, "item") and callable(value.item):  # numpy scalars
            return torch.tensor(float(value.item()))
        raise MisconfigurationError(
            f"self.log({name!r}, {value!r}): values must be numbers or scalar tensors, got {type(value).__name__}"
        )
    return torch.tensor(float(value))


def to_floats(metrics: dict[str, Any]) -> dict[str, float]:
    """Tensors to Python floats with one host transfer per device (not one per metric)."""
    out: dict[str, float] = {}
    by_device: dict[torch.device, list[tuple[str, torch.Tensor]]] = {}
    for name, value in metrics.items():
        if isinstance(value, torch.Tensor):
            by_device.setdefault(value.device, []).append((name, value))
        else:
            out[name] = float(value)
    for items in by_device.values():
        values = torch.stack([v.detach().float().reshape(()) for _, v in items]).tolist()
        for (name, _), number in zip(items, values):
            out[name] = number
    return {name: out[name] for name in metrics}
