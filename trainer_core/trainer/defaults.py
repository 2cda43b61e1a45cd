"""What a Trainer adds by itself: default loggers, profiler, callbacks, and determinism settings."""

from __future__ import annotations

import logging
import os
import warnings
from typing import TYPE_CHECKING, Any

import torch

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

if TYPE_CHECKING:  # annotations only: the trainer imports this module
    from trainer_core.trainer.trainer import Trainer

__all__ = ["make_profiler", "make_loggers", "make_callbacks", "configure_determinism", "order_callbacks"]

log = logging.getLogger("trainer_core")


def make_profiler(value: Any) -> Any:
    from trainer_core.profilers import profiler_from_flag

    return profiler_from_flag(value)


def make_loggers(value: Any, root: str, fast_dev_run: bool, flush_every: int | None = None) -> list[Any]:
    """``logger=True``: TensorBoard first (``trainer.logger``, as in Lightning 1.x), then a CSVLogger, both in
    ``{root}/lightning_logs/version_N``; the CSVLogger alone when tensorboard is not installed."""
    from trainer_core.loggers import CSVLogger, DummyLogger, TensorBoardLogger, tensorboard_available

    if fast_dev_run:
        return [DummyLogger()] if value not in (False, None) else []
    if value is True:
        flush = flush_every or 100
        if not tensorboard_available():
            return [CSVLogger(root, name="lightning_logs", flush_logs_every_n_steps=flush)]
        board = TensorBoardLogger(root, name="lightning_logs")
        return [board, CSVLogger(root, name="lightning_logs", version=board.version, flush_logs_every_n_steps=flush)]
    if value in (False, None):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def make_callbacks(trainer: Trainer, flags: dict[str, Any]) -> list[Callback]:
    """User callbacks plus the defaults the flags ask for, checkpoint callbacks last."""
    from trainer_core.callbacks import (
        GradientAccumulationScheduler,
        ModelCheckpoint,
        ModelSummary,
        ProgressBar,
        ProgressBarBase,
        StochasticWeightAveraging,
        Timer,
    )
    from trainer_core.strategies.slurm_requeue import requeue_callback

    callbacks: list[Callback] = list(flags["callbacks"])
    kinds = {type(cb) for cb in callbacks}

    def has(kind: type) -> bool:
        return any(issubclass(k, kind) for k in kinds)

    # Progress bar: enable_progress_bar (2.x) or progress_bar_refresh_rate (1.x; 0 disables).
    refresh = flags["progress_bar_refresh_rate"]
    bar_on = flags["enable_progress_bar"] and refresh != 0
    if bar_on and not has(ProgressBarBase):
        callbacks.append(ProgressBar(refresh_rate=refresh or 1, process_position=flags["process_position"] or 0))
    elif not bar_on and has(ProgressBarBase):
        raise MisconfigurationError("a progress bar callback was passed but enable_progress_bar=False / "
                                    "progress_bar_refresh_rate=0 turns the bar off; remove one of them")

    summary_mode = flags["weights_summary"]
    if flags["enable_model_summary"] and summary_mode is not None and not has(ModelSummary):
        callbacks.append(ModelSummary(max_depth=-1 if summary_mode == "full" else 1))

    requeue = requeue_callback(flags["plugins"])  # SLURM: save and requeue on SIGUSR1, resume after
    if requeue is not None:
        callbacks.append(requeue)

    if flags["stochastic_weight_avg"] and not has(StochasticWeightAveraging):
        callbacks.append(StochasticWeightAveraging())  # 1.x: the flag adds the callback with its defaults

    checkpointing = flags["enable_checkpointing"] and flags["checkpoint_callback"]
    if not checkpointing and has(ModelCheckpoint):
        raise MisconfigurationError("a ModelCheckpoint callback was passed but enable_checkpointing=False; "
                                    "remove one of them")
    if checkpointing and not has(ModelCheckpoint) and not trainer.fast_dev_run:
        callbacks.append(ModelCheckpoint(dirpath=_weights_dir(flags)))

    accumulate = flags["accumulate_grad_batches"]
    if isinstance(accumulate, dict):
        if has(GradientAccumulationScheduler):
            raise MisconfigurationError("accumulate_grad_batches is a dict and a GradientAccumulationScheduler "
                                        "was passed too; use one of them")
        callbacks.append(GradientAccumulationScheduler(accumulate))

    if flags["max_time"] is not None and not has(Timer):
        callbacks.append(Timer(duration=flags["max_time"], interval="step"))

    recorder = _event_recorder(flags)
    if recorder is not None:
        callbacks.append(recorder)
    return order_callbacks(callbacks)


def _weights_dir(flags: dict[str, Any]) -> str | None:
    path = flags.get("weights_save_path")
    return os.path.join(path, "checkpoints") if path else None


def _event_recorder(flags: dict[str, Any]) -> Callback | None:
    """Every run with a logger writes events.jsonl next to metrics.csv (so the studio can open CLI runs)."""
    if flags["logger"] in (False, None) or flags["fast_dev_run"]:
        return None
    if any(type(cb).__name__ == "EventRecorder" for cb in flags["callbacks"]):
        return None
    try:
        from trainer_core.telemetry import EventRecorder
    except ImportError:
        return None
    return EventRecorder()


def order_callbacks(callbacks: list[Callback]) -> list[Callback]:
    """Checkpoint callbacks run last, so they save after early stopping and other callbacks updated state."""
    from trainer_core.callbacks import ModelCheckpoint

    others = [cb for cb in callbacks if not isinstance(cb, ModelCheckpoint)]
    return others + [cb for cb in callbacks if isinstance(cb, ModelCheckpoint)]


def configure_determinism(deterministic: Any, benchmark: bool | None) -> None:
    if deterministic:
        warn_only = deterministic == "warn"
        torch.use_deterministic_algorithms(True, warn_only=warn_only)
        # cuBLAS needs a fixed workspace to be deterministic (CUDA >= 10.2).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    else:
        torch.use_deterministic_algorithms(False)
    if benchmark is not None:
        if benchmark and deterministic:
            warnings.warn("benchmark=True and deterministic=True: cudnn.benchmark may pick non-deterministic "
                          "kernels", UserWarning, stacklevel=3)
        torch.backends.cudnn.benchmark = benchmark
    elif deterministic:
        torch.backends.cudnn.benchmark = False
