"""Watch a submitted SLURM job: its queue state, then the run it writes (found under the job's folder)."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from studio.services.remote.calls import call_in_background
from studio.services.remote.slurm import JobState, SlurmShell, cancel, find_run, job_state

__all__ = ["SlurmJobWatcher"]


class SlurmJobWatcher(QObject):
    """Polls ``scontrol show job`` off the GUI thread every ``poll_ms`` until the job is final.

    Signals:
        state_changed(object): a new :class:`JobState` (state or requeue count changed).
        run_found(str): the run folder the job writes (follow it with a RunFollower or RemoteRunFollower).
        finished(object): the final :class:`JobState`.
        error(str): a state query failed (the watcher keeps polling).
    """

    state_changed = Signal(object)
    run_found = Signal(str)
    finished = Signal(object)
    error = Signal(str)

    def __init__(self, shell: SlurmShell, job_id: str, *, runs_root: str, submitted_at: float | None = None,
                 poll_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shell, self.job_id, self.runs_root = shell, job_id, runs_root
        self.submitted_at = time.time() if submitted_at is None else submitted_at
        self.state: JobState | None = None
        self.run_path: str | None = None
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        self._timer.start()
        self._poll()

    def stop(self) -> None:
        self._timer.stop()

    def cancel(self) -> None:
        """``scancel`` the job (off the GUI thread); the watcher sees it end as CANCELLED."""
        call_in_background(lambda: cancel(self.shell, self.job_id), on_failed=self.error.emit, parent=self)

    def _poll(self) -> None:
        if self._busy:  # one query at a time, however slow the controller answers
            return
        self._busy = True
        call_in_background(self._query, on_done=self._answer, on_failed=self._failed, parent=self)

    def _query(self) -> tuple[JobState, str | None]:
        state = job_state(self.shell, self.job_id)
        run = None
        if self.run_path is None and state.state in ("RUNNING", "COMPLETING", "COMPLETED", "FAILED", "CANCELLED"):
            run = find_run(self.shell, self.runs_root, since=self.submitted_at - 1)
        return state, run

    def _failed(self, message: str) -> None:
        self._busy = False
        self.error.emit(message)

    def _answer(self, answer: tuple[JobState, str | None]) -> None:
        self._busy = False
        state, run = answer
        previous, self.state = self.state, state
        if previous is None or (previous.state, previous.restarts) != (state.state, state.restarts):
            self.state_changed.emit(state)
        if run is not None and self.run_path is None:
            self.run_path = run
            self.run_found.emit(run)
        if state.final or state.state == "UNKNOWN":
            self._timer.stop()
            self.finished.emit(state)
