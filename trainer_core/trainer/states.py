"""Lightning 1.5's state enums: ``TrainerFn``, ``TrainerStatus``, ``RunningStage``.

Each enum is a ``str`` enum with 1.5's values, so it compares equal to the plain strings the trainer stores:
``trainer.state.fn == TrainerFn.FITTING`` and ``trainer.state.status == TrainerStatus.FINISHED`` hold after a fit.
``trainer.state.stage`` holds the running method's name (as ``fn``), not a ``RunningStage``: during ``test``,
``validate``, ``predict`` and ``tune`` the two agree; during ``fit`` read ``trainer.training``,
``trainer.validating`` and ``trainer.sanity_checking`` for the loop that runs.

Examples:
    >>> TrainerFn.FITTING == "fit", RunningStage.SANITY_CHECKING.value
    (True, 'sanity_check')
"""

from __future__ import annotations

from enum import Enum

__all__ = ["RunningStage", "TrainerFn", "TrainerStatus"]


class _StrEnum(str, Enum):
    """A str enum that compares with and formats as its value (1.x's ``LightningEnum``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __eq__(self, other: object) -> bool:
        other = other.value if isinstance(other, Enum) else other
        return isinstance(other, str) and self.value.lower() == other.lower()

    def __hash__(self) -> int:
        return hash(self.value.lower())


class TrainerStatus(_StrEnum):
    """Where the trainer is in its life (``trainer.state.status``)."""

    INITIALIZING = "initializing"
    RUNNING = "running"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"

    @property
    def stopped(self) -> bool:
        return self in (self.FINISHED, self.INTERRUPTED)


class TrainerFn(_StrEnum):
    """The public Trainer method running (``trainer.state.fn``)."""

    FITTING = "fit"
    VALIDATING = "validate"
    TESTING = "test"
    PREDICTING = "predict"
    TUNING = "tune"


class RunningStage(_StrEnum):
    """The loop running; ``trainer.training``, ``trainer.sanity_checking`` etc. say which one is."""

    TRAINING = "train"
    SANITY_CHECKING = "sanity_check"
    VALIDATING = "validate"
    TESTING = "test"
    PREDICTING = "predict"
    TUNING = "tune"

    @property
    def evaluating(self) -> bool:
        return self in (self.VALIDATING, self.TESTING)

    @property
    def dataloader_prefix(self) -> str | None:
        if self in (self.SANITY_CHECKING, self.TUNING):
            return None
        if self == self.VALIDATING:
            return "val"
        return self.value
