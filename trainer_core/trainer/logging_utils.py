"""Sending metrics to loggers and telemetry: one host transfer per logging step, none otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trainer_core.trainer.results import ResultCollection, flatten_metrics, to_floats

if TYPE_CHECKING:  # annotations only: the trainer imports this module
    from trainer_core.trainer.trainer import Trainer

__all__ = [
    "log_to_loggers",
    "step_metrics_payload",
    "save_loggers",
    "log_eval_step",
    "finish_epoch_logging",
    "call_and_log_hook",
]


def _wants_metrics(trainer: Trainer) -> bool:
    return bool(trainer.loggers) or trainer._hooks.has_callbacks("on_log_metrics")


def step_metrics_payload(trainer: Trainer, results: ResultCollection) -> dict[str, Any] | None:
    if not _wants_metrics(trainer):
        return None
    payload: dict[str, Any] = dict(results.fresh_step_metrics())
    if trainer.log_gpu_memory:
        from trainer_core.utilities.nvml import gpu_memory_metrics

        payload.update(gpu_memory_metrics(trainer.log_gpu_memory))
    return payload or None


def log_to_loggers(trainer: Trainer, metrics: dict[str, Any], step: int | None = None, *,
                   add_epoch: bool = True) -> None:
    """Convert ``metrics`` to floats and hand them, with ``epoch`` added, to every logger and telemetry callback.

    ``trainer.logged_metrics`` gets the values as logged (a dict logged under one name stays a dict there) without
    the ``epoch`` key, as in 1.5; loggers receive flat keys (``name/key``) and, unless ``add_epoch`` is False,
    ``epoch``.
    """
    if not metrics or not _wants_metrics(trainer):
        return
    floats = to_floats(metrics)
    trainer.logged_metrics.update(floats)
    flat = flatten_metrics(floats)
    if add_epoch:
        flat["epoch"] = trainer.current_epoch
    if step is None:
        step = max(trainer.global_step - 1, 0)
    if trainer.is_global_zero:
        for logger in trainer.loggers:
            # 1.5's entry point: a custom logger may override agg_and_log_metrics alone (the base's calls
            # log_metrics); a duck-typed logger without it gets log_metrics. Once per logging step, not per batch.
            getattr(logger, "agg_and_log_metrics", logger.log_metrics)(flat, step)
    trainer._hooks.callbacks("on_log_metrics", flat, step)


def log_eval_step(trainer: Trainer, results: ResultCollection) -> None:
    """After an evaluation batch: ``on_step`` values logged in it go to the loggers as ``name_step`` (1.5).

    The logger step counts evaluation batches per stage across the whole run (1.5's separate validation and test
    step counters), so these rows carry no ``epoch`` key (1.5 adds it only to rows logged at the global step: an
    ``epoch`` chart would otherwise mix the two step axes); the sanity check logs nothing. Free when nothing in the
    stage was logged per step.
    """
    if not results.has_logger_step_metrics or trainer.sanity_checking:
        return
    payload = results.fresh_step_metrics()
    if not payload:
        return
    counters: dict[str, int] = trainer._eval_log_steps
    step = counters.get(results.stage, 0)
    counters[results.stage] = step + 1
    log_to_loggers(trainer, payload, step, add_epoch=False)


def publish_epoch_metrics(trainer: Trainer, results: ResultCollection) -> dict[str, Any]:
    """Epoch aggregates into callback/progress-bar metrics; returns what goes to the logger (tensors)."""
    reduce = trainer.strategy.reduce if trainer.world_size > 1 else None
    to_logger: dict[str, Any] = {}
    for metric, value in results.epoch_metrics(reduce):
        trainer.callback_metrics[metric.name] = value
        if metric.forked:
            trainer.callback_metrics[metric.epoch_name] = value
        if metric.prog_bar:
            trainer._progress_bar_tensors[metric.epoch_name] = value
        if metric.logger:
            to_logger[metric.epoch_name] = value
    return to_logger


def finish_epoch_logging(trainer: Trainer, results: ResultCollection, step: int | None = None) -> None:
    """The end of an epoch's logging: publish the aggregates, send them to the loggers, reset metric objects."""
    values = publish_epoch_metrics(trainer, results)
    if values:
        log_to_loggers(trainer, values, step)
    results.reset_metric_objects()


def call_and_log_hook(trainer: Trainer, hook: str, stage: str = "train") -> None:
    """Run a once-per-stage hook (``on_train_start``) with its own results, then publish what it logged (1.5)."""
    previous = trainer._results
    results = ResultCollection(stage)
    trainer._results = results
    try:
        trainer._hooks.call(hook)
    finally:
        trainer._results = previous
    if results.metrics:
        finish_epoch_logging(trainer, results)


def save_loggers(trainer: Trainer) -> None:
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
