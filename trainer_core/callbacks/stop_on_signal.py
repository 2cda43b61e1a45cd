"""Graceful stop on SIGTERM for a run the studio started elsewhere (detached on a server, or a SLURM job).

The studio's own child runs stop through a shared event; a run on another machine is reached only by a signal. A
background job starts with SIGINT ignored, and SIGTERM's default is to die at once (no checkpoint, no final
event), so this callback turns SIGTERM into the same stop as the studio's Stop button: at the next batch boundary
a ``stopped-epoch=E-step=S.ckpt`` is written and the run ends "interrupted".

The studio adds it to the config it sends (``callbacks: [{class_path: trainer_core.callbacks.stop_on_signal.
StopOnSignal}]``); a run without it is unchanged. The handler is installed for the run's stages only (from
``setup`` to ``teardown``) and only on the main thread, where Python delivers signals.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from trainer_core.callbacks.stop_on_request import StopOnRequest

__all__ = ["StopOnSignal"]


class StopOnSignal(StopOnRequest):
    """Stop gracefully (checkpoint, then interrupt) when the process receives ``signum`` (SIGTERM by default).

    Args:
        signum: the signal number that asks for the stop.
        save_checkpoint: write the stop checkpoint in the run folder (training stages only).
    """

    def __init__(self, signum: int = int(signal.SIGTERM), *, save_checkpoint: bool = True) -> None:
        super().__init__(threading.Event(), save_checkpoint=save_checkpoint)
        self.signum = int(signum)
        self._previous: Any = None
        self._installed = False

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        if self.recorder is None:  # the run's own event stream learns of the stop checkpoint
            self.recorder = next((c for c in getattr(trainer, "callbacks", [])
                                  if type(c).__name__ == "EventRecorder"), None)
        if self._installed or threading.current_thread() is not threading.main_thread():
            return
        self._previous = signal.signal(self.signum, lambda *_: self.stop_event.set())
        self._installed = True

    def teardown(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        if self._installed:
            signal.signal(self.signum, self._previous)
            self._installed = False
