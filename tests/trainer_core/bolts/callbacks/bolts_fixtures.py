"""Test doubles for the Bolts callback tests: a logger whose experiment records every add_* call."""

from __future__ import annotations

from typing import Any

import torch

from tests.helpers.fake_trainer import FakeTrainer


class RecordingExperiment:
    """Keeps every ``add_*`` call as ``(method, tag, value, global_step)``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, int | None]] = []

    def _record(self, method: str, tag: str, value: Any, global_step: int | None = None, **_: Any) -> None:
        self.calls.append((method, tag, value.detach().clone() if isinstance(value, torch.Tensor) else value,
                           global_step))

    def add_image(self, tag: str, value: Any, global_step: int | None = None, **kwargs: Any) -> None:
        self._record("add_image", tag, value, global_step)

    def add_histogram(self, tag: str, value: Any, global_step: int | None = None, **kwargs: Any) -> None:
        self._record("add_histogram", tag, value, global_step)

    def add_figure(self, tag: str, value: Any, global_step: int | None = None, **kwargs: Any) -> None:
        self._record("add_figure", tag, value, global_step)


class RecordingLogger:
    def __init__(self) -> None:
        self.experiment = RecordingExperiment()


def trainer_with_recorder(**fields: Any) -> tuple[FakeTrainer, RecordingExperiment]:
    logger = RecordingLogger()
    return FakeTrainer(loggers=[logger], **fields), logger.experiment
