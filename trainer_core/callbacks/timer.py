"""Timer: measure time spent per stage and stop training when a time budget is used up.

``Trainer(max_time=...)`` adds one. The elapsed training time is saved in checkpoints, so a resumed run continues
counting from where it stopped.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from trainer_core.callback import Callback
from trainer_core.callbacks._common import broadcast, log
from trainer_core.exceptions import MisconfigurationError

__all__ = ["Timer"]

_STAGES = ("train", "validate", "test", "predict")
_INTERVALS = ("step", "epoch")


def _parse_duration(duration: str | timedelta | dict[str, float] | None) -> timedelta | None:
    if duration is None or isinstance(duration, timedelta):
        return duration
    if isinstance(duration, dict):
        try:
            return timedelta(**{str(k): float(v) for k, v in duration.items()})
        except TypeError as err:
            raise MisconfigurationError(
                f"Timer(duration={duration!r}) is invalid: dict keys must be timedelta fields (days, hours, "
                "minutes, seconds)."
            ) from err
    if isinstance(duration, str):
        parts = duration.strip().split(":")
        if len(parts) == 4 and all(p.isdigit() for p in parts):
            days, hours, minutes, seconds = (int(p) for p in parts)
            return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    raise MisconfigurationError(
        f'Timer(duration={duration!r}) is invalid: use a "DD:HH:MM:SS" string, a datetime.timedelta or a dict '
        'such as {"hours": 1}.'
    )


class Timer(Callback):
    """Track the time spent in each stage and stop ``fit`` after ``duration``.

    Args:
        duration: the budget: ``"DD:HH:MM:SS"``, a ``timedelta`` or a dict such as ``{"minutes": 30}``; None only
            measures.
        interval: check the budget after every training ``"step"`` or every ``"epoch"``.
        verbose: log when the budget is used up.

    Examples:
        >>> timer = Timer(duration="00:00:30:00")
        >>> timer.time_remaining() == 30 * 60
        True
    """

    def __init__(
        self,
        duration: str | timedelta | dict[str, float] | None = None,
        interval: str = "step",
        verbose: bool = True,
    ) -> None:
        if interval not in _INTERVALS:
            raise MisconfigurationError(
                f"Timer(interval={interval!r}) is not supported: use 'step' or 'epoch'."
            )
        self._duration = _parse_duration(duration)
        self._interval = interval
        self._verbose = verbose
        self._start_time: dict[str, float | None] = dict.fromkeys(_STAGES)
        self._end_time: dict[str, float | None] = dict.fromkeys(_STAGES)
        self._offset = 0.0
        self.stop_reason: str | None = None  # set when the time limit stopped the run (for run summaries)

    @property
    def duration(self) -> timedelta | None:
        return self._duration

    def start_time(self, stage: str = "train") -> float | None:
        """Monotonic clock reading when ``stage`` last started, or None."""
        return self._start_time[stage]

    def end_time(self, stage: str = "train") -> float | None:
        """Monotonic clock reading when ``stage`` last ended, or None while it runs."""
        return self._end_time[stage]

    def time_elapsed(self, stage: str = "train") -> float:
        """Seconds spent in ``stage`` (for training, including time restored from a checkpoint)."""
        start, end = self._start_time[stage], self._end_time[stage]
        offset = self._offset if stage == "train" else 0.0
        if start is None:
            return offset
        return (end if end is not None else time.monotonic()) - start + offset

    def time_remaining(self, stage: str = "train") -> float | None:
        """Seconds left of the budget, or None without a duration."""
        if self._duration is None:
            return None
        return self._duration.total_seconds() - self.time_elapsed(stage)

    # --- stage boundaries -----------------------------------------------------------------------------------
    def _start(self, stage: str) -> None:
        self._start_time[stage] = time.monotonic()
        self._end_time[stage] = None

    def _end(self, stage: str) -> None:
        self._end_time[stage] = time.monotonic()

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._start("train")

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._end("train")

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        self._start("validate")

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        self._end("validate")

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        self._start("test")

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        self._end("test")

    def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
        self._start("predict")

    def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
        self._end("predict")

    # --- the budget -----------------------------------------------------------------------------------------
    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        if self._interval == "step" and self._duration is not None:
            self._check_time_remaining(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self._interval == "epoch" and self._duration is not None:
            self._check_time_remaining(trainer)

    def _check_time_remaining(self, trainer: Any) -> None:
        assert self._duration is not None
        should_stop = broadcast(trainer, self.time_elapsed() >= self._duration.total_seconds())
        trainer.should_stop = bool(trainer.should_stop) or bool(should_stop)
        if should_stop:
            elapsed = timedelta(seconds=int(self.time_elapsed()))
            self.stop_reason = (f"Time limit {self._duration} reached after {elapsed} (epoch {trainer.current_epoch}, "
                                f"global step {trainer.global_step})")
            if self._verbose:
                log.info(f"Time limit reached. Elapsed time is {elapsed}. Signaling Trainer to stop.")

    # --- checkpoints ----------------------------------------------------------------------------------------
    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {"time_elapsed": {stage: self.time_elapsed(stage) for stage in _STAGES}}

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
        self._offset = float(callback_state.get("time_elapsed", {}).get("train", 0.0))
