"""GPU and system samples for the whole run, whatever tab is visible, saved in the run folder.

While a run is in progress the :class:`SystemMonitor` takes one sample a second (NVML for the GPUs, psutil for the
training process tree and system RAM; no torch in the GUI process), adds it to the run model as a
``system_sample`` event and appends it to ``{run folder}/system.jsonl``. Opening the run later replays that file,
so the GPU and system tab shows the same curves for a finished run as it did live. A run followed on another
machine is not sampled: only a run training on this computer has this computer's figures.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

import psutil
from PySide6.QtCore import QObject, QTimer

from studio.models.dashboards.system import SYSTEM_FILE, SYSTEM_SAMPLE, GpuSampler, ProcessSampler, system_event

if TYPE_CHECKING:
    from studio.services.session import RunSession

__all__ = ["SystemMonitor"]


class SystemMonitor(QObject):
    """Samples once a second between ``run_started`` and ``run_ended`` of ``session``.

    Args:
        session: the session whose runs are sampled (its model receives the samples).
        gpu: the GPU sampler (tests pass one over a fake NVML); NVML starts at the first run.
        interval_ms: time between two samples.
    """

    def __init__(self, session: RunSession, *, gpu: GpuSampler | None = None, interval_ms: int = 1000) -> None:
        super().__init__(session)
        self.session = session
        self.gpu = gpu or GpuSampler()
        self.procs = ProcessSampler()
        self._unsaved: list[dict[str, Any]] = []
        self._saved_to: str | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.sample)
        session.run_started.connect(self._on_started)
        session.run_ended.connect(self._on_ended)

    @property
    def active(self) -> bool:
        """True while a run is being sampled."""
        return self.timer.isActive()

    def _on_started(self, _mode: str) -> None:
        self._unsaved, self._saved_to = [], None
        if self.session.remote_location is not None:
            # A run followed on another machine: this computer's GPUs and RAM are not the run's; filed under it,
            # they were drawn as the run's own.
            self.timer.stop()
            return
        self.procs = ProcessSampler()
        self.gpu.start()
        self.timer.start()
        self.sample()

    def _on_ended(self, *_: Any) -> None:
        if self.timer.isActive():
            self.timer.stop()
            self._save()  # the run folder may be known only now (a run that failed early gets one at its end)

    def sample(self) -> dict[str, Any]:
        """Take one sample, add it to the run model and the run folder's file; returns the event."""
        pid = self.session.controller.pid
        event = system_event(time.time(), self.gpu.sample() if self.gpu.available else [], self.procs.sample(pid),
                             float(psutil.virtual_memory().percent))
        self.session.model.apply([event])
        self._unsaved.append(event)
        self._save()
        self.session.updated.emit({SYSTEM_SAMPLE})
        return event

    def _save(self) -> None:
        folder = self.session.model.log_dir
        if not folder or not os.path.isdir(folder) or not self._unsaved:
            return
        path = os.path.join(folder, SYSTEM_FILE)
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write("".join(json.dumps(event) + "\n" for event in self._unsaved))
        except OSError:
            return  # a read-only or removed run folder costs the saved copy only; the live view still has them
        self._unsaved.clear()
        self._saved_to = path
