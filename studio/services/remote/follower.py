"""Follow a run on another machine live, over the system ``ssh`` client, off the GUI thread (``QProcess``).

One probe asks the server whether its Python has ``trainer_core``. If so, the stream is its follow helper
(``python -m trainer_core.follow RUN_DIR --offset N``; it exits by itself when the run ends); otherwise
``tail -c +N+1 -F RUN_DIR/events.jsonl`` (stopped here when the end event arrives). The helper's file is run by
path (``runpy``) rather than with ``-m``: ``-m`` imports the ``trainer_core`` package and so torch, seconds per
reconnection on a busy server, while the helper itself needs only the standard library. Only complete lines are handed
to the :class:`RunFollower`, so its byte offset is exactly what was taken: after a dropped connection the stream
is started again from that offset and every event arrives exactly once.

On the server the stream command is wrapped so that it dies with the connection: a reader on the session's stdin
kills it at end-of-file (an SSH session without a terminal gets no hang-up signal, and a ``tail -F`` of a finished
run would otherwise stay behind for ever).
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from studio.services.remote.ssh import SSH_FAILED, SshTarget, explain_failure
from studio.services.run_follower import RunFollower

__all__ = ["RemoteRunFollower", "stream_command"]

_PROBE_TIMEOUT_MS = 30_000
TRAINER_CORE, TAIL = "trainer_core", "tail"
# Failures at the first connection that waiting will not fix: report at once instead of retrying.
_PERMANENT = ("Permission denied", "Host key verification failed", "Could not resolve hostname",
              "IDENTIFICATION HAS CHANGED")


def _dies_with_connection(command: str) -> str:
    # fd 3 keeps the session's stdin: a background job's own stdin is /dev/null in a non-interactive shell.
    return (f"exec 3<&0; {command} <&- & pid=$!; (read -r _ <&3; kill $pid) >/dev/null 2>&1 & "
            "exec 3<&-; wait $pid")


# Runs a script file as __main__ without putting its folder on sys.path (runpy leaves sys.path alone for a file).
_RUN_HELPER = ("import runpy, sys; path = sys.argv[1]; sys.argv = sys.argv[1:]; "
               "runpy.run_path(path, run_name='__main__')")


def stream_command(target: SshTarget, run_dir: str, offset: int, helper: str | None) -> str:
    """The remote shell command that streams ``run_dir``'s events from byte ``offset``.

    Args:
        helper: the server's ``trainer_core/follow.py`` (None: stream with ``tail -F``).
    """
    if helper:
        command = shlex.join([target.python, "-c", _RUN_HELPER, helper, run_dir, "--offset", str(offset)])
    else:
        path = run_dir if run_dir.endswith(".jsonl") else posixpath.join(run_dir, "events.jsonl")
        command = f"tail -c +{offset + 1} -F {shlex.quote(path)} 2>/dev/null"
    return _dies_with_connection(command)


_FIND_HELPER = ("import importlib.util as u, os; s = u.find_spec('trainer_core'); "
                "d = s and s.submodule_search_locations and list(s.submodule_search_locations)[0]; "
                "p = d and os.path.join(d, 'follow.py'); print(p if p and os.path.isfile(p) else 'tail')")


def probe_command(target: SshTarget) -> str:
    """Prints the server's ``trainer_core/follow.py`` (found without importing the package), else ``tail``."""
    return f"{shlex.quote(target.python)} -c {shlex.quote(_FIND_HELPER)} 2>/dev/null || echo {TAIL}"


class RemoteRunFollower(QObject):
    """Streams a remote run's events into a :class:`RunFollower` (its ``events``/``ended``/``stalled`` signals).

    Signals:
        connected(str): the stream runs; the argument is how (``trainer_core`` or ``tail``).
        reconnecting(int, str): the connection dropped; attempt number and the reason.
        failed(str): following stopped for good; one line naming what failed and how to fix it.
    """

    connected = Signal(str)
    reconnecting = Signal(int, str)
    failed = Signal(str)

    def __init__(self, target: SshTarget, run_dir: str, *, follower: RunFollower | None = None,
                 retry_delays_ms: tuple[int, ...] = (200, 500, 1000, 2000, 5000), max_attempts: int = 10,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.target = target
        self.run_dir = run_dir
        self.follower = follower if follower is not None else RunFollower(parent=self)
        self.mode: str | None = None  # TRAINER_CORE or TAIL once connected
        self.helper: str | None = None  # the server's trainer_core/follow.py
        self.connections = 0  # stream processes started (1 + reconnections)
        self._retry_delays_ms = retry_delays_ms
        self._max_attempts = max_attempts
        self._attempt = 0  # consecutive failed connections
        self._pending = b""  # bytes after the last newline received
        self._stopped = False
        self._process: QProcess | None = None
        self.follower.ended.connect(lambda *_args: self._end_stream())

    def start(self) -> None:
        """Probe the server, then stream (all asynchronous)."""
        self._stopped = False
        self.follower.start()  # a stream source: only its stall timer runs
        self._launch(probe_command(self.target), self._probe_done, stream=False)

    def stop(self) -> None:
        """Stop following; the events so far stay."""
        self._stopped = True
        self.follower.stop()
        self._end_stream()

    @property
    def process(self) -> QProcess | None:
        """The running ssh process (tests kill it to drop the connection)."""
        return self._process

    def _launch(self, remote_command: str, on_finished: Callable[[QProcess, int, QProcess.ExitStatus], None], *,
                stream: bool) -> None:
        argv = self.target.ssh_argv(remote_command)
        process = QProcess(self)
        process.setProgram(argv[0])
        process.setArguments(argv[1:])
        if stream:
            process.readyReadStandardOutput.connect(lambda: self._take(process))
        process.finished.connect(lambda code, status: on_finished(process, code, status))
        process.errorOccurred.connect(lambda error: self._process_error(process, error))
        self._process = process
        process.start()

    def _process_error(self, process: QProcess, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._fail("the ssh client could not be started: install OpenSSH (Debian/Ubuntu: apt-get install "
                       "openssh-client) and check that `ssh` is on PATH.")

    def _probe_done(self, process: QProcess, code: int, _status: QProcess.ExitStatus) -> None:
        output = bytes(process.readAllStandardOutput()).decode(errors="replace").strip().splitlines()
        stderr = bytes(process.readAllStandardError()).decode(errors="replace")
        process.deleteLater()
        if self._stopped:
            return
        if code != 0 or not output or not (output[-1] == TAIL or output[-1].endswith("follow.py")):
            self._fail(explain_failure(self.target, code, stderr, what="connecting"))
            return
        self.helper = None if output[-1] == TAIL else output[-1]
        self.mode = TAIL if self.helper is None else TRAINER_CORE
        self._connect()

    def _connect(self) -> None:
        if self._stopped or self.follower.finished:
            return
        self._pending = b""  # a torn line is asked for again: the offset counts only complete lines
        self.connections += 1
        command = stream_command(self.target, self.run_dir, self.follower.offset, self.helper)
        self._launch(command, self._stream_done, stream=True)
        self.connected.emit(self.mode or TAIL)

    def _take(self, process: QProcess) -> None:
        if process is not self._process or self._stopped:
            return
        data = self._pending + bytes(process.readAllStandardOutput())
        cut = data.rfind(b"\n") + 1
        self._pending = data[cut:]
        if cut:
            self._attempt = 0  # the connection works
            self.follower.feed(data[:cut])

    def _stream_done(self, process: QProcess, code: int, status: QProcess.ExitStatus) -> None:
        self._take(process)
        stderr = bytes(process.readAllStandardError()).decode(errors="replace")
        process.deleteLater()
        if process is self._process:
            self._process = None
        if self._stopped or self.follower.finished:
            return
        dropped = status == QProcess.ExitStatus.CrashExit or code == SSH_FAILED
        if not dropped and self.mode == TRAINER_CORE and code not in (0, 3):
            self._fail(explain_failure(self.target, code, stderr, what="following the run"))
            return
        if code == SSH_FAILED and self.connections == 1 and any(text in stderr for text in _PERMANENT):
            self._fail(explain_failure(self.target, code, stderr))
            return
        self._attempt += 1
        if self._attempt > self._max_attempts:
            self._fail(explain_failure(self.target, code, stderr, what="following the run"))
            return
        why = explain_failure(self.target, code, stderr) if code == SSH_FAILED else "the connection was closed"
        self.reconnecting.emit(self._attempt, why)
        delay = self._retry_delays_ms[min(self._attempt, len(self._retry_delays_ms)) - 1]
        QTimer.singleShot(delay, self._connect)

    def _end_stream(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.state() != QProcess.ProcessState.NotRunning:
            process.kill()
            process.waitForFinished(2000)

    def _fail(self, message: str) -> None:
        self._stopped = True
        self.follower.stop()
        self._end_stream()
        self.failed.emit(message)
