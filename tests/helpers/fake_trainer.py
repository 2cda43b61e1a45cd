"""A tiny stand-in for ``trainer_core.Trainer`` for pure-logic callback tests.

It carries only the public attributes of docs/engine-contracts.md that callbacks read, and a ``save_checkpoint``
that writes a small file (atomically, like the real one) and records the calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class FakeState:
    stage: str | None = "fit"


class FakeStrategy:
    """Single-process strategy: every collective returns its input."""

    def __init__(self) -> None:
        self.decisions: list[tuple[bool, bool]] = []

    def reduce_boolean_decision(self, decision: bool, all: bool = False) -> bool:  # noqa: A002 - contract name
        self.decisions.append((decision, all))
        return decision

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        return obj

    def barrier(self, name: str | None = None) -> None:
        return None


class FakeLogger:
    """Records every ``log_metrics`` call."""

    group_separator = "/"

    def __init__(self, version: int | str = 0, save_dir: str = ".") -> None:
        self.version = version
        self.save_dir = save_dir
        self.name = "lightning_logs"
        self.logged: list[tuple[dict[str, float], int]] = []
        self.saved_checkpoints: list[Any] = []

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        self.logged.append((dict(metrics), step))

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        self.saved_checkpoints.append(checkpoint_callback)


@dataclass
class FakeTrainer:
    """Counters, metrics and places a callback reads; change them between hook calls to script a run."""

    current_epoch: int = 0
    global_step: int = 0
    callback_metrics: dict[str, Any] = field(default_factory=dict)
    progress_bar_metrics: dict[str, float] = field(default_factory=dict)
    should_stop: bool = False
    sanity_checking: bool = False
    fast_dev_run: int = 0
    is_global_zero: bool = True
    val_check_interval: float | int = 1.0
    check_val_every_n_epoch: int | None = 1
    val_check_batch: int = 1
    num_training_batches: int | float = 1
    num_val_batches: list[int] = field(default_factory=list)
    num_test_batches: list[int] = field(default_factory=list)
    log_every_n_steps: int = 50
    accumulate_grad_batches: int = 1
    default_root_dir: str = "."
    log_dir: str | None = None
    loggers: list[Any] = field(default_factory=list)
    optimizers: list[Any] = field(default_factory=list)
    lr_schedulers: list[dict[str, Any]] = field(default_factory=list)
    state: FakeState = field(default_factory=FakeState)
    strategy: FakeStrategy = field(default_factory=FakeStrategy)
    saved: list[tuple[str, bool]] = field(default_factory=list)
    telemetry: list[tuple[str, dict[str, float], int]] = field(default_factory=list)

    @property
    def logger(self) -> Any:
        return self.loggers[0] if self.loggers else None

    def save_checkpoint(self, filepath: str, weights_only: bool = False) -> None:
        self.saved.append((filepath, weights_only))
        tmp = f"{filepath}.tmp-{os.getpid()}"
        torch.save({"epoch": self.current_epoch, "global_step": self.global_step}, tmp)
        os.replace(tmp, filepath)

    def _call_telemetry(self, hook: str, metrics: dict[str, float], step: int) -> None:
        self.telemetry.append((hook, dict(metrics), step))
