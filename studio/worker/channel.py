"""The child's side of the message stream: a non-blocking, batching, throttled sender.

The trainer thread calls :meth:`Channel.put` (a list append under a lock, well under a microsecond); a sender thread
wakes every ``interval`` seconds and sends everything pending as one list through the pipe. If the GUI falls
behind, the pipe fills and only the sender thread waits; when the backlog grows past ``max_pending``, ``progress``
events are coalesced (only the newest is kept) while every other event is delivered.

When the GUI goes away (its window closed with "Keep training in the background", or the GUI process died), the
pipe breaks: the channel then turns file-only, dropping what it would have sent (the EventRecorder still writes every
event to events.jsonl) and never raising into the training loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from studio.protocol import events as ev

__all__ = ["Channel", "pack", "METRICS_BLOCK"]

_PROGRESS = "progress"
_METRICS = "metrics"
METRICS_BLOCK = ev.METRICS_BLOCK
_CHUNK = 4000  # events per pipe message: bounds how long one pickle holds the GIL in the child


def pack(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge runs of ``metrics`` events with the same metric names into columnar blocks (wire format only).

    A block is ``{"type": "_metrics_block", "run_id", "seq": [first, last], "names": [...], "steps": [...],
    "epochs": [...], "values": [[...] per name]}``; the GUI expands it straight into its numpy buffers, which is
    ~20x cheaper per message than one dict per event. events.jsonl keeps one line per event.
    """
    out: list[dict[str, Any]] = []
    block: dict[str, Any] | None = None
    names: tuple[str, ...] = ()
    for event in batch:
        if event.get("type") != _METRICS:
            block = None
            out.append(event)
            continue
        metrics = event.get("metrics") or {}
        keys = tuple(metrics)
        if block is None or keys != names:
            names = keys
            block = {"type": METRICS_BLOCK, "run_id": event.get("run_id"), "seq": [event.get("seq")] * 2,
                     "names": list(keys), "steps": [], "epochs": [], "values": [[] for _ in keys],
                     "time": event.get("time")}
            out.append(block)
        block["seq"][1] = event.get("seq")
        block["steps"].append(event.get("step"))
        block["epochs"].append(event.get("epoch"))
        for column, value in zip(block["values"], metrics.values()):
            column.append(value)
    return out


class Channel:
    """Send event dicts through ``conn`` in batches.

    Args:
        conn: the write end of a ``multiprocessing.Pipe`` (anything with ``send``/``close``).
        interval: seconds between two batches (0.05 s: ~20 batches per second).
        max_pending: backlog size above which progress events are coalesced.
        on_broken: called once (from the sender thread) when the pipe breaks; errors it raises are ignored.
    """

    def __init__(self, conn: Any, *, interval: float = 0.05, max_pending: int = 100_000,
                 on_broken: Callable[[], None] | None = None) -> None:
        self._conn = conn
        self._interval = interval
        self._max_pending = max_pending
        self._limit = max_pending
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._broken = False
        self._on_broken = on_broken
        self.sent = 0
        self.coalesced = 0
        self._thread = threading.Thread(target=self._run, name="studio-channel", daemon=True)

    def start(self) -> Channel:
        """Start the sender thread; returns self."""
        self._thread.start()
        return self

    @property
    def broken(self) -> bool:
        """True once the GUI end of the pipe is gone (events then go to events.jsonl only)."""
        return self._broken

    def put(self, event: dict[str, Any]) -> None:
        """Queue one event (never blocks on the GUI; dropped here once the pipe is broken)."""
        if self._broken:
            return
        with self._lock:
            self._pending.append(event)
            if len(self._pending) > self._limit:
                self._coalesce()
                # What is left cannot be dropped; look again only after the backlog doubles (O(1) amortised).
                self._limit = max(self._max_pending, 2 * len(self._pending))

    def _coalesce(self) -> None:
        newest_progress = None
        kept = []
        for event in self._pending:
            if event.get("type") == _PROGRESS:
                newest_progress = event
            else:
                kept.append(event)
        if newest_progress is not None:
            kept.append(newest_progress)
        self.coalesced += len(self._pending) - len(kept)
        self._pending = kept

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            batch, self._pending = self._pending, []
            self._limit = self._max_pending
        return batch

    def _send(self, batch: list[dict[str, Any]]) -> None:
        if not batch or self._broken:
            return
        try:
            for start in range(0, len(batch), _CHUNK):
                chunk = batch[start : start + _CHUNK]
                self._conn.send(pack(chunk))
                self.sent += len(chunk)
        except (OSError, EOFError, ValueError):
            # The GUI went away; keep training (events still reach events.jsonl) and stop sending.
            self._broken = True
            with self._lock:
                self._pending = []
            if self._on_broken is not None:
                try:
                    self._on_broken()
                except Exception:  # noqa: BLE001 - a detached run must never die of its clean-up hook
                    pass

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._send(self._take())

    def flush(self) -> None:
        """Ask the sender thread to send now (does not wait)."""
        self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Send everything pending, stop the thread and close the pipe."""
        self._closing = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._send(self._take())
        try:
            self._conn.close()
        except OSError:
            pass
