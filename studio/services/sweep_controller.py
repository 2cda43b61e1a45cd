"""Run ``trainer-core sweep`` as a child process and read its study while it runs.

The sweep runs exactly the command a user would type on a server (``sweep_command``), so a sweep built in the forms
can be rerun headless. Stop sends SIGTERM: the sweep stops its trials at their next batch (each saves a checkpoint)
and leaves the study resumable; a second Stop kills the sweep process (its trials then stop themselves, since they
watch their parent).

The study is read about once a second in a separate reader process, so neither a slow disk, a locked SQLite file
nor the reading itself (Optuna builds Python objects for every trial: 100-300 ms for 50 trials, which in a thread
held the interpreter lock long enough to stall the window by half a second) ever blocks the GUI; each read arrives
as one ``snapshot`` signal.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from studio.models.sweep_state import SweepSnapshot, read_sweep

__all__ = ["SweepController"]


class SweepController(QObject):
    """Supervises at most one sweep process.

    Signals:
        snapshot(object): a :class:`SweepSnapshot`, about once a second while a sweep runs (and once at its end).
        output(str): a line the sweep process printed.
        finished(int): the sweep process's exit status (0 done, 2 bad input, 130 stopped, else failed).
    """

    snapshot = Signal(object)
    output = Signal(str)
    finished = Signal(int)

    def __init__(self, parent: QObject | None = None, *, poll_ms: int = 1000) -> None:
        super().__init__(parent)
        self._process: QProcess | None = None
        self._sweep_dir: str | None = None
        self._storage: str | None = None
        self._reader: ProcessPoolExecutor | None = None  # started on the first read (spawn: no Qt state copied)
        self._pending: Future[SweepSnapshot] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.refresh)
        self._stop_requested = False

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.state() != QProcess.ProcessState.NotRunning

    @property
    def sweep_dir(self) -> str | None:
        return self._sweep_dir

    def start(self, command: list[str], sweep_dir: str, *, storage: str | None = None, cwd: str | None = None,
              env: dict[str, str] | None = None) -> None:
        """Start ``command`` (from :func:`~studio.models.sweep_state.sweep_command`) for the sweep in ``sweep_dir``."""
        if self.running:
            raise RuntimeError("a sweep is already running")
        self._sweep_dir, self._storage, self._stop_requested = sweep_dir, storage, False
        process = QProcess(self)
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        if cwd:
            process.setWorkingDirectory(cwd)
        if env is not None:
            from PySide6.QtCore import QProcessEnvironment

            environment = QProcessEnvironment()
            for key, value in env.items():
                environment.insert(key, value)
            process.setProcessEnvironment(environment)
        process.readyReadStandardOutput.connect(self._on_output)
        process.finished.connect(self._on_finished)
        self._process = process
        process.start(command[0], command[1:])
        self._timer.start()

    def watch(self, sweep_dir: str, storage: str | None = None) -> None:
        """Show a sweep folder without running anything (a finished sweep, or one a CLI or SLURM job runs)."""
        self._sweep_dir, self._storage = sweep_dir, storage
        self.refresh()

    def stop(self) -> None:
        """First call: graceful (trials checkpoint and stop). Second call: kill the sweep process."""
        if not self.running:
            return
        assert self._process is not None
        if self._stop_requested:
            self._process.kill()
            return
        self._stop_requested = True
        self._process.terminate()  # SIGTERM: the sweep's handler stops its trials in order

    def shutdown(self) -> None:
        """At window close: stop reading (a read in flight takes well under a second; the reader process ends); a
        running sweep is left to finish on its own (its study stays)."""
        self._timer.stop()
        if self._reader is not None:
            self._reader.shutdown(wait=True, cancel_futures=True)
            self._reader = None

    def refresh(self) -> None:
        """Read the study on the worker thread unless a read is still in flight."""
        if self._sweep_dir is None or (self._pending is not None and not self._pending.done()):
            return
        if self._reader is None:
            self._reader = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        future = self._reader.submit(read_sweep, self._sweep_dir, self._storage)
        future.add_done_callback(self._deliver)
        self._pending = future

    def _deliver(self, future: Future[SweepSnapshot]) -> None:
        # On the executor's result thread: a signal emitted here is queued to the GUI thread, where the view draws it.
        try:
            snap = future.result()
        except Exception as err:  # noqa: BLE001 - a half-written study is read again on the next tick
            self.output.emit(f"(could not read the sweep's study yet: {type(err).__name__}: {err})")
            return
        self.snapshot.emit(snap)

    def _on_output(self) -> None:
        assert self._process is not None
        text = bytes(self._process.readAllStandardOutput().data()).decode("utf-8", errors="replace")
        for line in text.splitlines():
            if line.strip():
                self.output.emit(line)

    def _on_finished(self, code: int, _status: Any) -> None:
        self._timer.stop()
        self._on_output()
        self.refresh()
        self.finished.emit(int(code))


def default_sweeps_dir(runs_root: str) -> str:
    """Where the studio keeps its sweeps: ``<runs folder>/sweeps``."""
    return os.path.join(runs_root, "sweeps")
