"""Graceful stop: at the next batch boundary save a checkpoint, then interrupt the trainer.

Whoever wants the run to stop sets an event (the studio's GUI a ``multiprocessing.Event``, a sweep trial its SIGTERM
handler a ``threading.Event``); this callback checks it after every batch. The Trainer handles
``KeyboardInterrupt`` gracefully (marks ``trainer.interrupted``, fires ``on_exception``, tears down), so raising it
is the engine's own way of stopping early while keeping loggers and files consistent.
"""

from __future__ import annotations

import os
from typing import Any

from trainer_core.callback import Callback

__all__ = ["StopOnRequest"]


class StopOnRequest(Callback):
    """Interrupt the run when ``stop_event`` is set.

    Args:
        stop_event: anything with ``is_set()`` (a ``multiprocessing.Event`` or ``threading.Event``).
        recorder: the run's EventRecorder, told about the checkpoint written on stop.
        save_checkpoint: write ``checkpoints/stopped-epoch=E-step=S.ckpt`` in the run directory before stopping
            (training stages with a logger only; fast_dev_run writes no files).
    """

    def __init__(self, stop_event: Any, recorder: Any = None, *, save_checkpoint: bool = True) -> None:
        self.stop_event = stop_event
        self.recorder = recorder
        self.save_checkpoint = save_checkpoint
        self.fired = False
        self.checkpoint_path: str | None = None

    def _check(self, trainer: Any, training: bool) -> None:
        if self.fired or not self.stop_event.is_set():
            return
        self.fired = True
        if training and self.save_checkpoint and getattr(trainer, "loggers", None) and not trainer.fast_dev_run:
            path = os.path.join(str(trainer.log_dir), "checkpoints",
                                f"stopped-epoch={trainer.current_epoch}-step={trainer.global_step}.ckpt")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            trainer.save_checkpoint(path)
            self.checkpoint_path = path
            if self.recorder is not None:
                self.recorder.record_checkpoint(path, "stopped", trainer)
        raise KeyboardInterrupt("stopped by the user")

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        self._check(trainer, training=not _tuning(trainer))

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._check(trainer, training=not _tuning(trainer))

    # The tuners run their own short loops; a stop there raises KeyboardInterrupt, which the tuner handles by
    # restoring the model and trainer as they were before tuning (so no checkpoint of a half-tuned model).
    def on_lr_find_point(self, trainer: Any, pl_module: Any, point: dict[str, float]) -> None:
        self._check(trainer, training=False)

    def on_batch_size_trial(self, trainer: Any, pl_module: Any, trial: dict[str, Any]) -> None:
        self._check(trainer, training=False)

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        stage = getattr(getattr(trainer, "state", None), "stage", None)
        self._check(trainer, training=stage == "fit")

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        self._check(trainer, training=False)

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        self._check(trainer, training=False)


def _tuning(trainer: Any) -> bool:
    """True inside a tuner's short fit, whose weights are thrown away (restored) afterwards."""
    return getattr(getattr(trainer, "state", None), "stage", None) == "tune"
