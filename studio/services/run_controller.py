"""Start, watch, stop and kill the training child process; drain its messages on a timer.

One :class:`RunController` per window. ``start(request)`` spawns ``studio.worker.entry.child_main`` in a fresh
``spawn``-context, non-daemon process (daemonic processes cannot start DataLoader workers) with a one-way pipe. A
QTimer (every ``poll_ms``) reads whatever batches are waiting, within a time budget so the GUI never stalls, and
emits them as one ``events`` signal; the same tick notices a dead child (well within a second), drains what it
left in the pipe first (drain, then join), and ends the run with the reason.

Stop is graceful first (an ``Event`` the child checks after every batch; it saves a checkpoint and stops), then
forceful: a second Stop, or no exit within ``stop_timeout_s``, kills the child and its own children.

``detach()`` lets a run outlive the GUI (window closed with "Keep training in the background"): the pipe is closed
(the child turns file-only) and the process is no longer supervised or waited for at exit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import time
import types
import uuid
from collections.abc import Iterator
from typing import Any

import psutil
from PySide6.QtCore import QObject, QTimer, Signal

from studio.protocol import events as ev
from studio.protocol.events import exit_code_meaning
from studio.protocol.stream import well_formed
from studio.worker.entry import child_main

__all__ = ["RunController"]


class RunController(QObject):
    """Supervises at most one child process at a time.

    Signals:
        events(list): a batch of event dicts, in order.
        started(str): the run id of a newly started child.
        ended(str, str): status (finished / interrupted / failed) and reason, once per run, after the last events.
    """

    events = Signal(list)
    started = Signal(str)
    ended = Signal(str, str)

    def __init__(self, parent: QObject | None = None, *, poll_ms: int = 30, stop_timeout_s: float = 5.0,
                 budget_s: float = 0.02) -> None:
        super().__init__(parent)
        self._ctx = multiprocessing.get_context("spawn")
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self._poll)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._on_stop_timeout)
        self.stop_timeout_s = stop_timeout_s
        self.budget_s = budget_s
        self._proc: Any = None
        self._conn: Any = None
        self._stop_event: Any = None
        self._final: dict[str, Any] | None = None
        self._exception: dict[str, Any] | None = None
        self._killed_by_user = False
        self._stop_requested = False
        self._request: dict[str, Any] = {}
        self.run_id: str | None = None
        self.detached: list[Any] = []  # processes handed over by detach(), newest last
        self.received = 0  # events (a columnar metrics block counts as the events it carries)
        self.dropped = 0  # malformed messages and events left out (see studio.protocol.stream.well_formed)

    # --- queries ----------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from ``start`` until ``ended`` is emitted."""
        return self._proc is not None

    @property
    def pid(self) -> int | None:
        """The child's process id while running."""
        return self._proc.pid if self._proc is not None else None

    @property
    def stop_requested(self) -> bool:
        """True once Stop was asked for this run."""
        return self._stop_requested

    # --- control ----------------------------------------------------------------------------------------------
    def start(self, request: dict[str, Any]) -> str:
        """Start a child for ``request`` (see ``child_main``); returns the run id.

        Raises:
            RuntimeError: if a run is already in progress (stop it first).
        """
        if self._proc is not None:
            raise RuntimeError("A run is already in progress; stop it before starting another.")
        request = dict(request)
        self.run_id = request.setdefault("run_id", uuid.uuid4().hex[:12])
        self._request = request
        receiver, sender = self._ctx.Pipe(duplex=False)
        self._stop_event = self._ctx.Event()
        env_flag = os.environ.get("CUDA_DEVICE_ORDER")
        os.environ["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"  # child GPU indices match NVML's (the GPU view's)
        try:
            proc = self._ctx.Process(target=child_main, args=(request, sender, self._stop_event),
                                     name=f"studio-run-{self.run_id}", daemon=False)
            with _bare_main():
                proc.start()
        finally:
            if env_flag is None:
                os.environ.pop("CUDA_DEVICE_ORDER", None)
            else:
                os.environ["CUDA_DEVICE_ORDER"] = env_flag
        sender.close()  # our copy; the pipe reports EOF once the child's copy closes
        self._proc, self._conn = proc, receiver
        self._final = None
        self._exception = None
        self._killed_by_user = False
        self._stop_requested = False
        self.received = 0
        self.dropped = 0
        self._timer.start()
        self.started.emit(self.run_id)
        return self.run_id

    def stop(self) -> None:
        """Graceful stop at the next batch; a second call (or no exit within ``stop_timeout_s``) kills."""
        if self._proc is None:
            return
        if self._stop_requested:
            self.kill()
            return
        self._stop_requested = True
        self._stop_event.set()
        self._kill_timer.start(int(self.stop_timeout_s * 1000))

    def kill(self) -> None:
        """Kill the child and its children now (the run ends as interrupted)."""
        if self._proc is None:
            return
        self._killed_by_user = True
        _kill_tree(self._proc)
        self._poll()

    def shutdown(self, timeout_s: float = 3.0) -> None:
        """Stop any run and wait for the child to go (window closing / app exit)."""
        if self._proc is None:
            return
        self._stop_requested = True
        self._stop_event.set()
        deadline = time.monotonic() + timeout_s
        while self._proc is not None and self._proc.is_alive() and time.monotonic() < deadline:
            self._drain(budget_s=0.05)
            self._proc.join(0.05)
        if self._proc is not None and self._proc.is_alive():
            self._killed_by_user = True
            _kill_tree(self._proc)
        self._poll()

    def detach(self) -> Any:
        """Stop supervising the child and let it train on after this process exits; returns its Process (or None).

        No ``ended`` signal follows: the run is not over, it is just no longer watched (its events.jsonl is).
        """
        proc = self._proc
        if proc is None:
            return None
        self._timer.stop()
        self._kill_timer.stop()
        # Closing the read end makes the child's next send fail with BrokenPipeError; its Channel then goes
        # file-only. (Merely not reading would fill the pipe and block the child's sender thread for good.)
        if self._conn is not None:
            self._conn.close()
        # multiprocessing joins every non-daemon child it started when the interpreter exits
        # (util._exit_function -> active_children() -> join), so the GUI would hang until training ends. Taking
        # the process off that set is the one thing needed: the child was spawned (a fresh interpreter that holds
        # no GUI state), has its own copy of everything it uses, and is reparented to init when we exit. A daemon
        # child instead would be killed at exit (and could not start DataLoader workers); re-launching detached
        # runs through subprocess would need a second start path that Stop/Kill and draining do not know.
        multiprocessing.process._children.discard(proc)  # type: ignore[attr-defined]
        self._proc = None
        self._conn = None
        self.detached.append(proc)
        return proc

    def _on_stop_timeout(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self.kill()

    # --- draining ---------------------------------------------------------------------------------------------
    def _drain(self, budget_s: float | None) -> tuple[list[dict[str, Any]], bool]:
        """Read waiting batches (all of them when ``budget_s`` is None); returns (events, pipe closed)."""
        out: list[dict[str, Any]] = []
        closed = False
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        conn = self._conn
        while conn is not None:
            try:
                if not conn.poll():
                    break
                batch = conn.recv()
            except (EOFError, OSError):
                closed = True
                break
            except Exception:  # noqa: BLE001 - a message that does not unpickle is dropped, never fatal to the GUI
                self.dropped += 1
                continue
            events, dropped = well_formed(batch)
            self.dropped += dropped
            out.extend(events)
            if deadline is not None and time.perf_counter() > deadline:
                break
        for event in out:
            kind = event.get("type")
            if kind == ev.RUN_FINISHED:
                self._final = event
            elif kind == ev.EXCEPTION:
                self._exception = event
        return out, closed

    def _poll(self) -> None:
        if self._proc is None:
            return
        batch, closed = self._drain(self.budget_s)
        alive = self._proc.is_alive()
        if not alive or closed:
            more, _ = self._drain(None)  # drain, then join: the child's last words are in the pipe
            batch.extend(more)
        if batch:
            self.received += sum(len(e["steps"]) if e.get("type") == ev.METRICS_BLOCK else 1 for e in batch)
            self.events.emit(batch)
        if alive and not closed:
            return
        self._proc.join(0)  # never block the GUI thread: an exiting child is looked at again next tick
        if self._proc.is_alive():  # pipe closed but still alive: it is exiting
            return
        self._finish()

    def _finish(self) -> None:
        proc = self._proc
        code = proc.exitcode
        self._timer.stop()
        self._kill_timer.stop()
        if self._conn is not None:
            self._conn.close()
        self._proc = None
        self._conn = None
        if self._killed_by_user:
            status, reason = "interrupted", "killed by the user (Stop did not end it in time, or Stop twice)"
        elif self._final is not None:
            status = str(self._final.get("status") or "finished")
            reason = str(self._final.get("reason") or "")
            if code not in (0, None) and status == "finished":
                status, reason = "failed", exit_code_meaning(code)
        else:
            status = "failed"
            reason = f"the training process {exit_code_meaning(code)}"
            native = self._faulthandler_text()
            if native:
                reason += "\n" + native
        self._remove_empty_trace()
        self.ended.emit(status, reason)

    def _faulthandler_text(self) -> str:
        path = self._request.get("faulthandler_path")
        if not path or not os.path.exists(path):
            return ""
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                return handle.read().strip()[-4000:]
        except OSError:
            return ""

    def _remove_empty_trace(self) -> None:
        path = self._request.get("faulthandler_path")
        try:
            if path and os.path.getsize(path) == 0:
                os.remove(path)
        except OSError:
            pass


@contextlib.contextmanager
def _bare_main() -> Iterator[None]:
    """Hide the GUI's ``__main__`` while spawning.

    A spawned child re-imports the parent's main module; for the ``training-studio`` launcher script that would
    import Qt and the whole GUI into the training process. With a bare stand-in the child imports only the target.
    """
    real = sys.modules.get("__main__")
    stand_in = types.ModuleType("__main__")
    stand_in.__spec__ = None
    sys.modules["__main__"] = stand_in
    try:
        yield
    finally:
        if real is not None:
            sys.modules["__main__"] = real


def _kill_tree(proc: Any) -> None:
    """SIGKILL the child and every process it started (DataLoader workers would otherwise be orphaned).

    The child itself is killed through ``multiprocessing`` (psutil must not reap it, or ``is_alive`` would never
    learn that it ended); its descendants through psutil.
    """
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass
    proc.kill()
    psutil.wait_procs(descendants, timeout=3)
