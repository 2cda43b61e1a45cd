"""Run a blocking remote call (ssh, scp, sbatch, ...) on a worker thread and get its result back on the GUI thread.

Every such call has its own timeout, so a worker never waits for ever; the GUI thread never waits at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

__all__ = ["RemoteCall", "call_in_background", "wait_for_calls"]


class RemoteCall(QObject):
    """One call's outcome. Signals: ``done(object)`` with the result, or ``failed(str)`` with the error line."""

    done = Signal(object)
    failed = Signal(str)


class _Job(QRunnable):
    def __init__(self, function: Callable[[], Any], call: RemoteCall) -> None:
        super().__init__()
        self.function, self.call = function, call

    def run(self) -> None:
        try:
            result = self.function()
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI as one line
            self.call.failed.emit(str(exc) or type(exc).__name__)
        else:
            self.call.done.emit(result)


_POOL: QThreadPool | None = None


def _pool() -> QThreadPool:
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setMaxThreadCount(4)  # remote calls mostly wait on the network
    return _POOL


def call_in_background(function: Callable[[], Any], *, on_done: Callable[[Any], None] | None = None,
                       on_failed: Callable[[str], None] | None = None, parent: QObject | None = None) -> RemoteCall:
    """Run ``function`` on a worker thread; ``on_done``/``on_failed`` are called on the GUI thread."""
    call = RemoteCall(parent)
    if on_done is not None:
        call.done.connect(on_done)
    if on_failed is not None:
        call.failed.connect(on_failed)
    _pool().start(_Job(function, call))
    return call


def wait_for_calls(timeout_ms: int = 30_000) -> bool:
    """Wait for the calls in flight (application exit, tests); True when none is left."""
    return _POOL is None or _POOL.waitForDone(timeout_ms)
