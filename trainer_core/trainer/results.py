"""What ``self.log`` records: step values, epoch aggregates, and the names they are published under.

Values stay tensors on their device until something reads them (the logger at its cadence, the progress bar at its
refresh rate, a callback asking for ``callback_metrics``), so logging costs no host synchronisation per step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.trainer.metric_objects import compute_value, forward_value, is_metric_object

__all__ = ["ResultCollection", "LoggedMetric", "hook_log_defaults", "to_floats", "flatten_metrics"]

_Tensor = torch.Tensor  # the exact type the self.log fast path accepts (subclasses take the full path)
_REDUCE = ("mean", "sum", "max", "min")
_REDUCE_ALIASES = {"avg": "mean"}  # 1.x accepted "avg" for the mean

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


Value = Any  # a scalar tensor, or a dict of them (a dict logged under one name, a MetricCollection)
Reduce = Callable[[torch.Tensor, str], torch.Tensor]


@dataclass(eq=False)
class LoggedMetric:
    """One logged name from one hook in one stage, with its options and what has been recorded.

    ``metric_object`` is a torchmetrics Metric/MetricCollection when one was logged: its epoch value is its
    ``compute()``, taken once and kept, because the object is reset when the epoch's logging is done.
    """

    name: str
    on_step: bool
    on_epoch: bool
    prog_bar: bool
    logger: bool
    reduce_fx: str
    sync_dist: bool
    step_value: Value | None = None
    step_serial: int = -1
    values: list[Any] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    dataloaders: set[int] = field(default_factory=set)
    metric_object: Any = None
    spread: bool = False  # a MetricCollection from log_dict: its members are published under their own names
    _computed: Value | None = None

    @property
    def forked(self) -> bool:
        return self.on_step and self.on_epoch

    @cached_property
    def step_name(self) -> str:
        return _fork_name(self.name, "_step") if self.forked else self.name

    @cached_property
    def epoch_name(self) -> str:
        return _fork_name(self.name, "_epoch") if self.forked else self.name

    def epoch_value(self, reduce: Reduce | None) -> Value | None:
        if self.metric_object is not None:
            if self._computed is None:
                self._computed = compute_value(self.metric_object)
            return self._computed
        if not self.values:
            return None
        if isinstance(self.values[0], dict):
            keys = dict.fromkeys(key for entry in self.values for key in entry)
            out = {}
            for key in keys:
                pairs = [(entry[key], size) for entry, size in zip(self.values, self.sizes) if key in entry]
                out[key] = _reduce_values([v for v, _ in pairs], [n for _, n in pairs], self.reduce_fx, reduce)
            return out
        return _reduce_values(self.values, self.sizes, self.reduce_fx, reduce)

    def view(self, name: str) -> LoggedMetric:
        """This metric's options under another name (one member of a spread MetricCollection)."""
        return LoggedMetric(name, self.on_step, self.on_epoch, self.prog_bar, self.logger, self.reduce_fx,
                            self.sync_dist, dataloaders=self.dataloaders)


def _fork_name(name: str, fork: str) -> str:
    """``loss`` -> ``loss_epoch``; with several loaders the fork goes before the loader suffix, as 1.5 names it:
    ``loss/dataloader_idx_0`` -> ``loss_epoch/dataloader_idx_0``."""
    base, suffix, index = name.rpartition("/dataloader_idx_")
    return f"{base}{fork}{suffix}{index}" if suffix else f"{name}{fork}"


def _reduce_values(values: list[Any], sizes: list[int], reduce_fx: str, reduce: Reduce | None) -> torch.Tensor:
    stacked = torch.stack([v if isinstance(v, torch.Tensor) else torch.tensor(float(v))
                           for v in _same_device(values)]).float()
    if reduce_fx == "mean":
        weights = torch.tensor(sizes, dtype=stacked.dtype, device=stacked.device)
        total, count = (stacked * weights).sum(), weights.sum()
        if reduce is not None:
            total, count = reduce(total, "sum"), reduce(count, "sum")
        return total / count
    if reduce_fx == "sum":
        value = stacked.sum()
        return reduce(value, "sum") if reduce is not None else value
    value = stacked.max() if reduce_fx == "max" else stacked.min()
    return reduce(value, reduce_fx) if reduce is not None else value


def _same_device(values: list[Any]) -> list[Any]:
    devices = {v.device for v in values if isinstance(v, torch.Tensor)}
    if len(devices) <= 1:
        return values
    return [v.cpu() if isinstance(v, torch.Tensor) else v for v in values]


class ResultCollection:
    """The metrics logged during one stage run (a training epoch, or one validation/test/predict run).

    Metrics are kept per (hook, name), as Lightning 1.5 does: a name logged per step in ``training_step`` and again
    in ``training_epoch_end`` is two metrics, and the epoch-end value is the one shown last.
    """

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
        self.has_logger_step_metrics = False  # lets evaluation loops skip per-step logger work when none exist
        # name -> ((fx, on_step, on_epoch, reduce_fx), metric) for names logged per step only (a scalar tensor, no
        # reduce across processes, no dataloader index): the options that decide how a call is handled, so a later
        # call with the same options is recorded without resolving them again (the fast path at the top of log).
        self._step_only: dict[str, tuple[tuple[Any, ...], LoggedMetric]] = {}

    def reset(self) -> None:
        self.metrics.clear()
        self._step_only.clear()

    def log(self, fx: str | None, name: str, value: Any, *, prog_bar: bool, logger: bool, on_step: bool | None,
            on_epoch: bool | None, reduce_fx: Any, enable_graph: bool, sync_dist: bool, add_dataloader_idx: bool,
            batch_size: int | None, sync_fn: Reduce | None = None, spread: bool = False) -> None:
        """Record ``value`` under ``name`` for the hook ``fx``.

        Args:
            sync_fn: The strategy's reduce when ``sync_dist`` asks for it in a multi-process run: step values are
                reduced when logged, epoch values when aggregated.
            spread: ``value`` is a MetricCollection from ``log_dict``: each member keeps its own name.
        """
        # Fast path: the usual per-step `self.log("loss", loss)` from training_step, called again with the options
        # of a call already handled below. Everything those options decide (the hook is allowed, on_step only, the
        # reduce name is valid, the metric exists and is not forked) holds, so only the value is recorded: exactly
        # what the full path does for such a call.
        known = self._step_only.get(name)
        if (known is not None and type(value) is _Tensor and value.ndim == 0 and sync_fn is None
                and self.dataloader_idx is None and known[0] == (fx, on_step, on_epoch, reduce_fx)):
            if value.requires_grad and not enable_graph:
                value = value.detach()
            metric = known[1]
            metric.step_value = value
            metric.step_serial = self.batch_serial
            if self.callback_metrics is not None:
                self.callback_metrics[name] = value
            if metric.prog_bar and self.progress_bar_tensors is not None:
                self.progress_bar_tensors[name] = value
            return
        if "/dataloader_idx_" in name:
            raise MisconfigurationError(f"metric name {name!r} must not contain '/dataloader_idx_' (added for you)")
        step, epoch = hook_log_defaults(fx, on_step, on_epoch)
        if not step and not epoch:
            raise MisconfigurationError(
                f"self.log({name!r}, ..., on_step=False, on_epoch=False) logs nothing; set on_step=True and/or "
                "on_epoch=True (or leave both unset for the hook's default)")
        # The default "mean" (or another canonical name) needs no resolving: one tuple scan instead of a call.
        reduce_name = reduce_fx if reduce_fx in _REDUCE else _reduce_name(reduce_fx, name)
        dl_idx = self.dataloader_idx
        if add_dataloader_idx and dl_idx is not None and self.num_dataloaders > 1:
            name = f"{name}/dataloader_idx_{dl_idx}"
        metric_object = None
        if isinstance(value, (torch.Tensor, float, int)):  # the common case first: no torchmetrics/dict checks
            tensor: Value | None = _as_tensor(value, name, enable_graph)
        elif is_metric_object(value):
            metric_object = value
            tensor = forward_value(value) if step else None
        else:
            tensor = _as_value(value, name, enable_graph)
        key = f"{fx}.{name}"
        metric = self.metrics.get(key)
        if metric is None:
            metric = LoggedMetric(name, step, epoch, prog_bar, logger, reduce_name, sync_dist,
                                  metric_object=metric_object, spread=spread)
            self.metrics[key] = metric
            self.has_logger_step_metrics = self.has_logger_step_metrics or (step and logger)
        if dl_idx is not None:
            metric.dataloaders.add(dl_idx)
        if step and tensor is not None:
            shown = tensor
            if sync_fn is not None and sync_dist and metric_object is None:
                shown = _map(tensor, lambda v: sync_fn(v, reduce_name))
            metric.step_value = shown
            metric.step_serial = self.batch_serial
            if metric.spread or isinstance(shown, dict):
                self._publish_step(metric, shown)
            else:  # the common case inline: one scalar under its own name
                callback_metrics = self.callback_metrics
                if callback_metrics is not None:
                    callback_metrics[name] = shown
                    if metric.forked:
                        callback_metrics[metric.step_name] = shown
                if metric.prog_bar and self.progress_bar_tensors is not None:
                    self.progress_bar_tensors[metric.step_name] = shown
        if epoch and metric_object is None:
            metric.values.append(tensor)
            metric.sizes.append(batch_size if batch_size is not None else self.batch_size_fn())
        elif (step and metric.on_step and not metric.on_epoch and metric_object is None and not spread
              and type(value) is _Tensor and value.ndim == 0 and sync_fn is None and dl_idx is None):
            self._step_only[name] = ((fx, on_step, on_epoch, reduce_fx), metric)

    def _publish_step(self, metric: LoggedMetric, value: Value) -> None:
        for published, entry in _entries(metric, value):
            if self.callback_metrics is not None:
                self.callback_metrics[published.name] = entry
                if published.forked:
                    self.callback_metrics[published.step_name] = entry
            if published.prog_bar and self.progress_bar_tensors is not None:
                self.progress_bar_tensors[published.step_name] = entry

    def fresh_step_metrics(self) -> dict[str, Value]:
        """Step values logged in the current batch that go to the logger, under their published names."""
        serial = self.batch_serial
        out: dict[str, Value] = {}
        for metric in self.metrics.values():
            if metric.logger and metric.step_serial == serial and metric.step_value is not None:
                for published, entry in _entries(metric, metric.step_value):
                    out[published.step_name] = entry
        return out

    def epoch_metrics(self, reduce: Reduce | None = None) -> list[tuple[LoggedMetric, Value]]:
        """Every epoch aggregate as (metric, value); a spread MetricCollection gives one pair per member."""
        out: list[tuple[LoggedMetric, Value]] = []
        for metric in self.metrics.values():
            if metric.on_epoch:
                value = metric.epoch_value(reduce if metric.sync_dist else None)
                if value is not None:
                    out.extend(_entries(metric, value))
        return out

    def reset_metric_objects(self) -> None:
        """``reset()`` every torchmetrics object logged in this run (its computed value stays published)."""
        for metric in self.metrics.values():
            if metric.metric_object is not None:
                metric.metric_object.reset()

    def results_per_dataloader(self, reduce: Reduce | None, count: int) -> list[dict[str, float]]:
        """What ``trainer.validate()``/``test()`` return: one dict of floats per dataloader.

        A forked metric appears under its plain name and its ``_epoch`` name (1.5); a name logged with
        ``add_dataloader_idx=False`` appears only for the loaders it was logged from.
        """
        out: list[dict[str, Any]] = [{} for _ in range(count)]
        for metric, value in self.epoch_metrics(reduce):
            names = (metric.name, metric.epoch_name) if metric.forked else (metric.name,)
            targets = sorted(metric.dataloaders) if metric.dataloaders else range(count)
            for idx in targets:
                for name in names:
                    out[idx][name] = value
        return [flatten_metrics(to_floats(entry)) for entry in out]


def _entries(metric: LoggedMetric, value: Value) -> list[tuple[LoggedMetric, Value]]:
    if metric.spread and isinstance(value, dict):
        # A collection logged under several loaders: its members carry the loader suffix its entry got.
        _, marker, idx = metric.name.partition("/dataloader_idx_")
        suffix = f"{marker}{idx}" if marker else ""
        return [(metric.view(f"{name}{suffix}"), entry) for name, entry in value.items()]
    return [(metric, value)]


def _map(value: Value, fn: Callable[[torch.Tensor], torch.Tensor]) -> Value:
    return {key: fn(v) for key, v in value.items()} if isinstance(value, dict) else fn(value)


def _one() -> int:
    return 1


def _reduce_name(reduce_fx: Any, name: str) -> str:
    if callable(reduce_fx):
        mapping = {torch.mean: "mean", torch.sum: "sum", torch.max: "max", torch.min: "min", max: "max",
                   min: "min", sum: "sum"}
        if reduce_fx in mapping:
            return mapping[reduce_fx]
    elif isinstance(reduce_fx, str):
        lowered = _REDUCE_ALIASES.get(reduce_fx.lower(), reduce_fx.lower())
        if lowered in _REDUCE:
            return lowered
    raise MisconfigurationError(
        f"self.log({name!r}, reduce_fx={reduce_fx!r}): reduce_fx must be one of {', '.join(_REDUCE)}"
    )


def _as_value(value: Any, name: str, enable_graph: bool) -> Value:
    """A scalar tensor, or for a dict of values (1.5 accepts one under a single name) a dict of scalar tensors."""
    if isinstance(value, Mapping):
        out = {}
        for key, entry in value.items():
            if isinstance(entry, Mapping):
                raise MisconfigurationError(
                    f"self.log({name!r}, ...) got a nested dict under {key!r}; only one level of keys is allowed")
            out[str(key)] = _as_tensor(entry, f"{name}/{key}", enable_graph)
        return out
    return _as_tensor(value, name, enable_graph)


def _as_tensor(value: Any, name: str, enable_graph: bool) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        if value.dim() == 0:  # the common case: already a scalar, no reshape (a tensor op) needed
            # detach() makes a new tensor (an alias of the same storage): skip it when there is no graph to drop.
            return value.detach() if value.requires_grad and not enable_graph else value
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


def flatten_metrics(metrics: Mapping[str, Any], separator: str = "/") -> dict[str, Any]:
    """``{"pair": {"a": x}}`` as ``{"pair/a": x}`` (what loggers that take flat keys receive)."""
    if not any(isinstance(value, Mapping) for value in metrics.values()):
        return dict(metrics)
    out: dict[str, Any] = {}
    for name, value in metrics.items():
        if isinstance(value, Mapping):
            for key, entry in flatten_metrics(value, separator).items():
                out[f"{name}{separator}{key}"] = entry
        else:
            out[name] = value
    return out


def to_floats(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Tensors to Python floats with one host transfer per device (not one per metric).

    A dict value (a dict logged under one name) stays a dict, of floats.
    """
    if any(isinstance(value, Mapping) for value in metrics.values()):
        flat = to_floats(flatten_metrics(metrics))
        nested: dict[str, Any] = {}
        for name, value in metrics.items():
            if isinstance(value, Mapping):
                nested[name] = {key: flat[f"{name}/{key}"] for key in flatten_metrics(value)}
            else:
                nested[name] = flat[name]
        return nested
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
