"""DeviceStatsMonitor: log device statistics around training batches at the logging cadence.

On a CUDA device the values come from ``torch.cuda.memory_stats`` (no device synchronisation); on CPU (or with
``cpu_stats=True``) from psutil: ``cpu_percent``, ``cpu_vm_percent`` and ``cpu_swap_percent``. Keys are
``{hook}/{stat}``, e.g. ``on_train_batch_start/cpu_percent``, sent with the same step as the trainer's metrics.
"""

from __future__ import annotations

from typing import Any

import torch

from trainer_core.callback import Callback
from trainer_core.callbacks._common import log_to_loggers
from trainer_core.exceptions import MisconfigurationError

__all__ = ["DeviceStatsMonitor"]


def cpu_stats() -> dict[str, float]:
    """Host CPU and memory usage in percent (psutil)."""
    import psutil

    return {
        "cpu_percent": float(psutil.cpu_percent()),
        "cpu_vm_percent": float(psutil.virtual_memory().percent),
        "cpu_swap_percent": float(psutil.swap_memory().percent),
    }


def cuda_stats(device: torch.device) -> dict[str, float]:
    """The CUDA caching allocator's counters for ``device`` (bytes and counts)."""
    return {key: float(value) for key, value in torch.cuda.memory_stats(device).items()}


class DeviceStatsMonitor(Callback):
    """Log device statistics at ``on_train_batch_start`` and ``on_train_batch_end`` every logging step.

    Args:
        cpu_stats: also log host CPU/RAM usage. None: only when training on the CPU.

    Examples:
        >>> monitor = DeviceStatsMonitor()
    """

    def __init__(self, cpu_stats: bool | None = None) -> None:
        self._cpu_stats = cpu_stats
        self._step_due: int | None = None
        self._last_logged: int | None = None

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        if stage not in (None, "fit"):
            return
        if not getattr(trainer, "loggers", None):
            raise MisconfigurationError(
                "DeviceStatsMonitor needs a logger to write to, but the Trainer has none: remove logger=False or "
                "drop the DeviceStatsMonitor callback."
            )

    def _collect(self, pl_module: Any) -> dict[str, float]:
        device = getattr(pl_module, "device", torch.device("cpu"))
        device = torch.device(device)
        stats: dict[str, float] = {}
        if device.type == "cuda" and torch.cuda.is_available():
            stats.update(cuda_stats(device))
        if self._cpu_stats or (self._cpu_stats is None and device.type == "cpu"):
            stats.update(cpu_stats())
        return stats

    def _log(self, trainer: Any, pl_module: Any, hook: str, step: int) -> None:
        separator = getattr(getattr(trainer, "logger", None), "group_separator", "/")
        metrics = {f"{hook}{separator}{key}": value for key, value in self._collect(pl_module).items()}
        log_to_loggers(trainer, metrics, step)

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        step = int(trainer.global_step)
        every = int(getattr(trainer, "log_every_n_steps", 50) or 1)
        due = (step + 1) % every == 0 or bool(getattr(trainer, "should_stop", False))
        # With accumulation several batches share one optimizer step: log once per step.
        self._step_due = step if due and step != self._last_logged else None
        if self._step_due is not None:
            self._log(trainer, pl_module, "on_train_batch_start", step)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        if self._step_due is None:
            return
        self._log(trainer, pl_module, "on_train_batch_end", self._step_due)
        self._last_logged = self._step_due
        self._step_due = None
