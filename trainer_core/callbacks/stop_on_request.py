"""Graceful stop: at the next batch boundary save a checkpoint, then interrupt the trainer.

Whoever wants the run to stop sets an event (the studio's GUI a ``multiprocessing.Event``, a sweep trial its SIGTERM
handler a ``threading.Event``); this callback checks it after every batch. The Trainer handles
``KeyboardInterrupt`` gracefully (marks ``trainer.interrupted``, fires ``on_exception``, tears down), so raising it
is the engine's own way of stopping early while keeping loggers and files consistent.

With several processes (DDP) every rank must stop at the same batch: a rank that stops alone leaves the others
waiting in the next gradient all-reduce, and the stop checkpoint's barrier pairs with the wrong collective. A signal
reaches the ranks at slightly different batches, so the ranks vote instead: every ``sync_every`` training batches
(and at each epoch start) one all-reduce of "was I asked?", and all stop when any was. Evaluation batches are not
voted on (their counts may differ between ranks, e.g. an unpadded predict sampler): a multi-process validate, test
or predict runs to its end, and a fit stops at its next vote. One process never votes, and stops at the next batch.
"""

from __future__ import annotations

import os
from typing import Any

from trainer_core.callback import Callback

__all__ = ["StopOnRequest", "stop_checkpoint_in"]


class StopOnRequest(Callback):
    """Interrupt the run when ``stop_event`` is set.

    Args:
        stop_event: anything with ``is_set()`` (a ``multiprocessing.Event`` or ``threading.Event``).
        recorder: the run's EventRecorder, told about the checkpoint written on stop.
        save_checkpoint: write ``checkpoints/stopped-epoch=E-step=S.ckpt`` in the run directory before stopping
            (training stages with a logger only; fast_dev_run writes no files).
    """

    def __init__(self, stop_event: Any, recorder: Any = None, *, save_checkpoint: bool = True,
                 sync_every: int = 16) -> None:
        self.stop_event = stop_event
        self.recorder = recorder
        self.save_checkpoint = save_checkpoint
        self.sync_every = max(1, int(sync_every))
        self.fired = False
        self.checkpoint_path: str | None = None

    def _asked(self, trainer: Any, batch_idx: int | None, lockstep: bool) -> bool:
        """Whether to stop here: this process's event, or with several processes the ranks' vote.

        Args:
            batch_idx: the batch just done (it counts alike on every rank); None votes at once.
            lockstep: every rank is at this same point (training); elsewhere several processes never vote.
        """
        if getattr(trainer, "world_size", 1) <= 1:
            return bool(self.stop_event.is_set())
        if not lockstep or (batch_idx is not None and (batch_idx + 1) % self.sync_every):
            return False  # not a vote: the event (a relay poll in a spawned rank) is not even looked at
        return bool(trainer.strategy.reduce_boolean_decision(bool(self.stop_event.is_set()), all=False))

    def _check(self, trainer: Any, training: bool, batch_idx: int | None = None, *, lockstep: bool = True) -> None:
        if self.fired or not self._asked(trainer, batch_idx, lockstep):
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
        self._check(trainer, training=not _tuning(trainer), batch_idx=batch_idx)

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
        self._check(trainer, training=stage == "fit", batch_idx=batch_idx, lockstep=False)

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        self._check(trainer, training=False, batch_idx=batch_idx, lockstep=False)

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        self._check(trainer, training=False, batch_idx=batch_idx, lockstep=False)


def stop_checkpoint_in(run_dir: str | os.PathLike[str] | None) -> str | None:
    """The newest stop checkpoint in a run folder (one written by a spawned rank, which its caller cannot ask)."""
    folder = os.path.join(os.fspath(run_dir), "checkpoints") if run_dir else ""
    try:
        found = [entry.path for entry in os.scandir(folder) if entry.name.startswith("stopped-")
                 and entry.name.endswith(".ckpt")]
    except OSError:
        return None
    return max(found, key=os.path.getmtime) if found else None


def _tuning(trainer: Any) -> bool:
    """True inside a tuner's short fit, whose weights are thrown away (restored) afterwards."""
    return getattr(getattr(trainer, "state", None), "stage", None) == "tune"
