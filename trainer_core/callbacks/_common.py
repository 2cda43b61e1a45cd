"""Small helpers shared by the built-in callbacks.

They read only the public trainer attributes of docs/engine-contracts.md, with tolerant fallbacks so that the
callbacks also work with the light fake trainers used in unit tests.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("trainer_core.callbacks")

__all__ = ["is_fitting", "should_skip_decisions", "log_to_loggers", "is_global_zero", "broadcast", "reduce_decision"]


def is_fitting(trainer: Any) -> bool:
    """True while ``trainer.fit`` runs (its in-epoch validation included)."""
    state = getattr(trainer, "state", None)
    stage = getattr(state, "stage", None)
    if stage is None:
        return bool(getattr(trainer, "training", False))
    return str(getattr(stage, "value", stage)) in ("fit", "train", "training")


def should_skip_decisions(trainer: Any) -> bool:
    """Early stopping and checkpointing decide nothing in a sanity check, a fast_dev_run or outside ``fit``."""
    return bool(getattr(trainer, "fast_dev_run", 0)) or bool(getattr(trainer, "sanity_checking", False)) or (
        not is_fitting(trainer)
    )


def is_global_zero(trainer: Any) -> bool:
    """Whether this process is the one that writes files."""
    return bool(getattr(trainer, "is_global_zero", True))


def broadcast(trainer: Any, obj: Any) -> Any:
    """Rank 0's value of ``obj`` on every rank (identity without a strategy)."""
    strategy = getattr(trainer, "strategy", None)
    return strategy.broadcast(obj) if strategy is not None else obj


def reduce_decision(trainer: Any, decision: bool, all_ranks: bool = False) -> bool:
    """Combine a boolean decision over ranks: any rank by default, every rank with ``all_ranks``."""
    strategy = getattr(trainer, "strategy", None)
    if strategy is None:
        return bool(decision)
    if all_ranks:
        return bool(strategy.reduce_boolean_decision(bool(decision), all=True))
    return bool(strategy.reduce_boolean_decision(bool(decision)))


def log_to_loggers(trainer: Any, metrics: dict[str, float], step: int) -> None:
    """Send metrics straight to every logger and to the telemetry hook, as Lightning's monitors do."""
    if not metrics:
        return
    for logger in getattr(trainer, "loggers", None) or []:
        logger.log_metrics(metrics, step=step)
    telemetry = getattr(trainer, "_call_telemetry", None)
    if callable(telemetry):
        telemetry("on_log_metrics", metrics, step)
