"""Sending metrics to loggers and telemetry: one host transfer per logging step, none otherwise."""

from __future__ import annotations

from typing import Any

from trainer_core.trainer.results import ResultCollection, to_floats

__all__ = ["log_to_loggers", "step_metrics_payload", "save_loggers"]


def _wants_metrics(trainer: Any) -> bool:
    return bool(trainer.loggers) or trainer._hooks.has_callbacks("on_log_metrics")


def step_metrics_payload(trainer: Any, results: ResultCollection) -> dict[str, Any] | None:
    if not _wants_metrics(trainer):
        return None
    payload: dict[str, Any] = dict(results.fresh_step_metrics())
    if trainer.log_gpu_memory:
        from trainer_core.utilities.nvml import gpu_memory_metrics

        payload.update(gpu_memory_metrics(trainer.log_gpu_memory))
    return payload or None


def log_to_loggers(trainer: Any, metrics: dict[str, Any], step: int | None = None) -> None:
    """Convert ``metrics`` to floats, add ``epoch``, and hand them to every logger and telemetry callback."""
    if not metrics or not _wants_metrics(trainer):
        return
    floats = to_floats(metrics)
    floats["epoch"] = trainer.current_epoch
    if step is None:
        step = max(trainer.global_step - 1, 0)
    trainer.logged_metrics.update(floats)
    if trainer.is_global_zero:
        for logger in trainer.loggers:
            logger.log_metrics(floats, step)
    trainer._hooks.callbacks("on_log_metrics", floats, step)


def save_loggers(trainer: Any) -> None:
    """Flush every logger's files; a write failure (disk full, folder not writable) says how to fix it."""
    for logger in trainer.loggers:
        try:
            logger.save()
        except OSError as err:
            where = getattr(logger, "log_dir", None) or trainer.default_root_dir
            raise OSError(
                err.errno, f"{err.strerror or err} while writing the logs in {where!r} ({err}). Free disk space or "
                "set default_root_dir to a writable folder; checkpoints saved so far are intact",
                err.filename) from err
