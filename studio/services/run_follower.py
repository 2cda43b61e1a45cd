"""Follow an ``events.jsonl`` that another process is still writing (a CLI run, a torchrun or SLURM job).

A :class:`RunFollower` reads the file from a byte offset, hands every complete, well-formed event on as it is
appended, and says when the run ends (see :mod:`studio.protocol.run_end`) or stalls (no new line for ``stall_s``
seconds: the process may have died, or is stuck). A file-system notification (``QFileSystemWatcher``, inotify on
Linux) wakes it as soon as the file grows; a slow timer covers file systems without notifications (network mounts)
and measures the stall. Reads are capped per wake-up so a large file is taken in steps, never freezing the window.

A source other than a local file (an SSH stream) feeds bytes with :meth:`feed` instead; the offset then counts the
bytes received, so a reconnection asks for exactly the rest.
"""

from __future__ import annotations

import os
import time

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from studio.protocol.run_end import RunEnd, decode_lines, events_path

__all__ = ["RunFollower"]

_MAX_READ = 4 * 1024 * 1024  # bytes per wake-up


class RunFollower(QObject):
    """Follows one events file (see the module docstring).

    Signals:
        events(list): new events, in file order.
        ended(str, str): the run's status and reason, once.
        stalled(float): no new line for that many seconds (once per stall; ``resumed`` when lines come again).
        resumed(): lines arrive again after a stall.
    """

    events = Signal(list)
    ended = Signal(str, str)
    stalled = Signal(float)
    resumed = Signal()

    def __init__(self, path: str | os.PathLike[str] | None = None, *, offset: int = 0, poll_ms: int = 1000,
                 stall_s: float = 120.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = events_path(path) if path is not None else None
        self.offset = offset  # bytes of complete lines taken so far
        self.stall_s = stall_s
        self.skipped = 0
        self._buffer = b""
        self._end = RunEnd()
        self._last_new = time.monotonic()
        self._stalled = False
        self._running = False
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(lambda _path: self._read())
        self._watcher.directoryChanged.connect(lambda _path: self._read())
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._tick)

    @property
    def finished(self) -> bool:
        return self._end.ended

    def start(self) -> None:
        """Read what is there and keep following.

        The first read waits for the next turn of the event loop: a run that has already ended says so only after
        ``start`` has returned, so whoever starts a follower can connect to it (or to what it feeds) first.
        """
        self._running = True
        if self.path is not None:
            watched = str(self.path) if self.path.exists() else str(self.path.parent)
            self._watcher.addPath(watched)
        self._timer.start()
        QTimer.singleShot(0, self, self._read)

    def stop(self) -> None:
        """Stop following (the events so far stay)."""
        self._running = False
        self._timer.stop()
        paths = self._watcher.files() + self._watcher.directories()
        if paths:
            self._watcher.removePaths(paths)

    def feed(self, data: bytes) -> None:
        """Bytes from a stream (an SSH connection), in order; complete lines are handed on."""
        self._buffer += data
        self._take_lines()

    def _tick(self) -> None:
        self._read()
        quiet = time.monotonic() - self._last_new
        if self._running and not self._stalled and quiet > self.stall_s:
            self._stalled = True
            self.stalled.emit(quiet)

    def _read(self) -> None:
        if not self._running or self.path is None:
            return
        position = self.offset + len(self._buffer)
        try:
            size = self.path.stat().st_size
        except OSError:
            return  # not written yet
        if not self._watcher.files() and self.path.exists():
            self._watcher.addPath(str(self.path))  # the file appeared after the folder was watched
        if size <= position:
            return
        with open(self.path, "rb") as handle:
            handle.seek(position)
            chunk = handle.read(min(size - position, _MAX_READ))
        self._buffer += chunk
        self._take_lines()
        if self._running and size > position + len(chunk):
            QTimer.singleShot(0, self, self._read)  # the rest in the next turn of the event loop

    def _take_lines(self) -> None:
        cut = self._buffer.rfind(b"\n")
        if cut < 0:
            return
        complete, self._buffer = self._buffer[:cut + 1], self._buffer[cut + 1:]
        self.offset += len(complete)
        lines = complete.split(b"\n")[:-1]
        events = decode_lines(lines)
        self.skipped += sum(1 for line in lines if line.strip()) - len(events)
        self._last_new = time.monotonic()
        if self._stalled:
            self._stalled = False
            self.resumed.emit()
        ended_at = next((i for i, event in enumerate(events) if self._end.feed(event)), None)
        if events:
            self.events.emit(events)
        if ended_at is not None:
            self.stop()
            self.ended.emit(self._end.status or "finished", self._end.reason)
