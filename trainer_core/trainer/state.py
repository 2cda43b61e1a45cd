"""The trainer's explicit state: stage, status and loop counters in one place."""

from __future__ import annotations

from dataclasses import dataclass

from trainer_core.trainer.states import TrainerFn

__all__ = ["TrainerState", "STAGES", "STATUSES"]

STAGES = ("fit", "validate", "test", "predict", "tune")
STATUSES = ("initializing", "running", "finished", "interrupted", "failed")


@dataclass
class TrainerState:
    """What the trainer is doing now.

    Attributes:
        stage: the public method running ("fit", "validate", "test", "predict", "tune") or None.
        status: "initializing", "running", "finished", "interrupted" (KeyboardInterrupt/stop) or "failed".
        sanity_checking: True during the validation sanity check before training.
    """

    stage: str | None = None
    status: str = "initializing"
    sanity_checking: bool = False

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    @property
    def stopped(self) -> bool:
        """Finished or interrupted (1.5)."""
        return self.status in ("finished", "interrupted")

    @property
    def fn(self) -> TrainerFn | None:
        """The running public method as 1.5's ``TrainerFn`` (equal to ``stage``)."""
        return TrainerFn(self.stage) if self.stage else None


@dataclass
class LoopProgress:
    """Counters that a checkpoint stores so a resumed run continues exactly where it stopped."""

    current_epoch: int = 0
    global_step: int = 0
    batches_that_stepped: int = 0
    total_batch_idx: int = 0
    # Batches finished in the current epoch, and whether the epoch's batch loop ran to its end.
    batches_done_in_epoch: int = 0
    epoch_finished: bool = False
    # Whether the epoch-interval schedulers were already stepped for the finished epoch.
    epoch_schedulers_stepped: bool = False
