"""LearningRateMonitor: log the learning rate (and momentum) of every optimizer to the loggers.

Names follow Lightning 1.5: ``lr-{OptimizerClass}`` (a second optimizer of the same class gets ``-1``, ``-2`` ...),
the scheduler's ``name`` when it has one, and ``{name}/pg{i}`` (1-based) when an optimizer has several parameter
groups. A group with a ``"name"`` key is logged as ``{name}/{group name}``, also when it is the only group; two groups
of one optimizer with the same ``"name"`` are an error. Momentum is logged as ``{name}-momentum``.

As in 1.5, parameter groups added during training (``BaseFinetuning.unfreeze_and_add_param_group``) are picked up
at the next logging step: ``lr-Adam`` becomes ``lr-Adam/pg1`` (its history kept) beside the new ``lr-Adam/pg2``.
The 1.5 attributes ``lrs``, ``lr_sch_names`` (one name per scheduler) and ``last_momentum_values`` are kept.
"""

from __future__ import annotations

import warnings
from typing import Any

from trainer_core.callback import Callback
from trainer_core.callbacks._common import log_to_loggers
from trainer_core.exceptions import MisconfigurationError

__all__ = ["LearningRateMonitor"]


class LearningRateMonitor(Callback):
    """Log learning rates during training.

    Args:
        logging_interval: ``"step"`` (every logging step), ``"epoch"`` (each epoch start) or None (each scheduler
            at its own interval; optimizers without a scheduler at logging steps).
        log_momentum: also log the momentum (``betas[0]`` for Adam-like optimizers).

    Examples:
        >>> monitor = LearningRateMonitor(logging_interval="step")
    """

    def __init__(self, logging_interval: str | None = None, log_momentum: bool = False) -> None:
        if logging_interval not in (None, "step", "epoch"):
            raise MisconfigurationError(
                f"LearningRateMonitor(logging_interval={logging_interval!r}) is invalid: use 'step', 'epoch' or None "
                "(each scheduler's own interval)."
            )
        self.logging_interval = logging_interval
        self.log_momentum = log_momentum
        self.lrs: dict[str, list[float]] = {}
        self.lr_sch_names: list[str] = []
        self.last_momentum_values: dict[str, float | None] = {}
        # (name, optimizer, param-group index, interval) for every logged value, built in on_train_start.
        self._entries: list[tuple[str, Any, int, str]] = []
        # The parameter-group count of each optimizer when the entries were built: a change renames them.
        self._group_counts: list[int] = []
        self._last_step_logged: int | None = None

    # --- names ----------------------------------------------------------------------------------------------
    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if not getattr(trainer, "loggers", None):
            raise MisconfigurationError(
                "LearningRateMonitor needs a logger to write to, but the Trainer has none: remove logger=False or "
                "drop the LearningRateMonitor callback."
            )
        self._entries, self.lr_sch_names = self._find_entries(trainer)
        self._group_counts = _group_counts(trainer)
        if self.log_momentum:
            without = sorted({name for name, opt, _, _ in self._entries if not _has_momentum(opt)})
            if without:
                warnings.warn(
                    f"LearningRateMonitor(log_momentum=True): {without} have no momentum or betas; 0 is logged.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        self.lrs = {name: [] for name, _, _, _ in self._entries}
        self.last_momentum_values = {f"{name}-momentum": None for name in self.lrs}
        self._last_step_logged = None

    def _find_entries(self, trainer: Any) -> tuple[list[tuple[str, Any, int, str]], list[str]]:
        """Every logged value as (name, optimizer, group index, interval), and the scheduled optimizers' names."""
        entries: list[tuple[str, Any, int, str]] = []
        scheduler_names: list[str] = []
        used: set[str] = set()
        class_counts: dict[str, int] = {}

        def base_name(optimizer: Any, explicit: str | None) -> str:
            if explicit:
                name = explicit
            else:
                cls = type(optimizer).__name__
                count = class_counts.get(cls, 0)
                class_counts[cls] = count + 1
                name = f"lr-{cls}" if count == 0 else f"lr-{cls}-{count}"
            candidate, i = name, 1
            while candidate in used:  # two schedulers with one explicit name: keep both series
                candidate, i = f"{name}-{i}", i + 1
            used.add(candidate)
            return candidate

        def add(optimizer: Any, name: str, interval: str) -> None:
            groups = optimizer.param_groups
            _check_group_names(name, groups)
            for index, group in enumerate(groups):
                group_name = group.get("name", f"pg{index + 1}" if len(groups) > 1 else None)
                suffix = f"/{group_name}" if group_name else ""
                entries.append((name + suffix, optimizer, index, interval))

        scheduled = []
        for config in getattr(trainer, "lr_schedulers", None) or []:
            scheduler = config["scheduler"]
            optimizer = getattr(scheduler, "optimizer", None)
            if optimizer is None:
                continue
            scheduled.append(optimizer)
            name = base_name(optimizer, config.get("name"))
            scheduler_names.append(name)
            add(optimizer, name, config.get("interval", "epoch"))
        for optimizer in getattr(trainer, "optimizers", None) or []:
            if not any(optimizer is seen for seen in scheduled):
                add(optimizer, base_name(optimizer, None), "step")
        return entries, scheduler_names

    def _follow_new_param_groups(self, trainer: Any) -> None:
        """Rebuild the names when an optimizer gained parameter groups; ``X`` keeps its history as ``X/pg1``."""
        counts = _group_counts(trainer)
        if counts == self._group_counts:
            return
        self._group_counts = counts
        self._entries, self.lr_sch_names = self._find_entries(trainer)
        for name, _, _, _ in self._entries:
            old = name[: -len("/pg1")] if name.endswith("/pg1") else None
            if old is not None and old in self.lrs:
                self.lrs[name] = self.lrs.pop(old)
                self.last_momentum_values[f"{name}-momentum"] = self.last_momentum_values.pop(f"{old}-momentum", None)
            elif name not in self.lrs:
                self.lrs[name] = []
                self.last_momentum_values[f"{name}-momentum"] = None

    # --- logging --------------------------------------------------------------------------------------------
    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        if self.logging_interval == "epoch" or not _is_logging_step(trainer):
            return
        step = int(trainer.global_step)
        if step == self._last_step_logged:
            return  # accumulation: several batches share one optimizer step
        self._last_step_logged = step
        self._log(trainer, "step" if self.logging_interval is None else "any", step)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        if self.logging_interval == "step":
            return
        self._log(trainer, "epoch" if self.logging_interval is None else "any", int(trainer.global_step))

    def _log(self, trainer: Any, interval: str, step: int) -> None:
        self._follow_new_param_groups(trainer)
        stats = self._extract_stats(interval)
        log_to_loggers(trainer, stats, step)

    def _extract_stats(self, interval: str) -> dict[str, float]:
        stats: dict[str, float] = {}
        for name, optimizer, index, entry_interval in self._entries:
            if interval != "any" and entry_interval != interval:
                continue
            group = optimizer.param_groups[index]
            lr = float(group["lr"])
            stats[name] = lr
            self.lrs.setdefault(name, []).append(lr)
            if self.log_momentum:
                momentum = _momentum(group)
                stats[f"{name}-momentum"] = momentum
                self.last_momentum_values[f"{name}-momentum"] = momentum
        return stats


def _group_counts(trainer: Any) -> list[int]:
    return [len(optimizer.param_groups) for optimizer in getattr(trainer, "optimizers", None) or []]


def _check_group_names(name: str, groups: list[dict[str, Any]]) -> None:
    names = [group["name"] for group in groups if "name" in group]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise MisconfigurationError(
            f"LearningRateMonitor: the optimizer logged as {name!r} has several parameter groups named {duplicates}; "
            "give each parameter group its own 'name' so their learning rates can be told apart.")


def _is_logging_step(trainer: Any) -> bool:
    """Whether the batch about to run is one whose metrics the trainer sends to the loggers.

    The trainer counts batches that stepped the optimizers (several optimizers step several times per batch, so
    ``global_step`` alone would skip or repeat logging steps); without that counter, ``global_step`` decides.
    """
    every = int(getattr(trainer, "log_every_n_steps", 50) or 1)
    progress = getattr(trainer, "progress", None)
    done = getattr(progress, "batches_that_stepped", None)
    if done is None:
        done = int(trainer.global_step)
    return (int(done) + 1) % every == 0 or bool(getattr(trainer, "should_stop", False))


def _has_momentum(optimizer: Any) -> bool:
    defaults = getattr(optimizer, "defaults", {})
    return "momentum" in defaults or "betas" in defaults


def _momentum(group: dict[str, Any]) -> float:
    if "betas" in group:
        return float(group["betas"][0])
    return float(group.get("momentum", 0.0))
