"""Rank 0's events (and the stop request) across a ``ddp_spawn`` launch.

A multi-process run on one machine (``devices=4`` on CPU, several GPUs) pickles the trainer, with the studio's
EventRecorder and stop callback, into freshly spawned worker processes. The pipe to the GUI and the GUI's stop
event belong to the training child and cannot travel, so the child opens a local, authenticated socket
(:class:`EventRelay`) and hands the callbacks a :class:`RelaySink` and a :class:`RelayStop` that work in both
places:

- in the training child they call the channel and the stop event directly (no socket, no cost);
- in a spawned copy they connect to the relay: rank 0 sends its events, which the child forwards to the GUI as
  if they were its own; every rank polls the relay for the stop request.

Events a copy emits before its process group exists (its rank unknown) wait, and are sent or dropped once the
rank is known, so only rank 0's stream reaches the views.
"""

from __future__ import annotations

import secrets
import socket
import threading
from collections.abc import Callable
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

__all__ = ["EventRelay", "RelaySink", "RelayStop"]

_STOP = "stop"


def _rank() -> int | None:
    """This process's rank in the default process group, or None before one exists."""
    try:
        import torch.distributed as dist
    except ImportError:
        return 0
    if dist.is_available() and dist.is_initialized():
        return int(dist.get_rank())
    return None


class RelaySink:
    """The EventRecorder's sink: the channel in the training child, the relay socket in a spawned copy."""

    def __init__(self, address: Any, authkey: bytes, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.address = address
        self.authkey = authkey
        self._deliver: Callable[[dict[str, Any]], None] | None = deliver
        self._conn: Connection | None = None
        self._waiting: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address, "authkey": self.authkey}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["address"], state["authkey"], None)  # type: ignore[misc]

    def __call__(self, event: dict[str, Any]) -> None:
        """Deliver ``event`` (thread-safe; the media thread emits too)."""
        if self._deliver is not None:
            self._deliver(event)
            return
        rank = _rank()
        with self._lock:
            if rank is None:
                self._waiting.append(event)
                return
            if rank != 0:
                self._waiting.clear()
                return
            if self._conn is None:
                self._conn = Client(self.address, authkey=self.authkey)
            batch, self._waiting = [*self._waiting, event], []
            self._conn.send(batch)


class RelayStop:
    """The stop callback's event: the GUI's stop event in the training child, the relay's message in a copy."""

    def __init__(self, address: Any, authkey: bytes, local: Any) -> None:
        self.address = address
        self.authkey = authkey
        self._local = local
        self._conn: Connection | None = None
        self._set = False

    def __getstate__(self) -> dict[str, Any]:
        return {"address": self.address, "authkey": self.authkey}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["address"], state["authkey"], None)  # type: ignore[misc]

    def is_set(self) -> bool:
        """True once the user asked the run to stop."""
        if self._local is not None:
            return bool(self._local.is_set())
        if not self._set:
            if self._conn is None:
                self._conn = Client(self.address, authkey=self.authkey)
                self._conn.send([])  # says "I listen for stop" (an empty event batch)
            while self._conn.poll():
                self._set = self._conn.recv() == _STOP or self._set
        return self._set


class EventRelay:
    """The training child's end: accepts spawned copies, forwards their events, tells them about a stop.

    Args:
        deliver: where the copies' events go (the channel's ``put``).
        stop_event: the GUI's stop event (``is_set()``); watched so connected copies learn of a stop.
    """

    def __init__(self, deliver: Callable[[dict[str, Any]], None], stop_event: Any) -> None:
        self._deliver = deliver
        self._stop_event = stop_event
        authkey = secrets.token_bytes(16)
        self._listener = Listener(("127.0.0.1", 0), authkey=authkey)
        self._clients: list[Connection] = []
        self._readers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.sink = RelaySink(self._listener.address, authkey, deliver)
        self.stop = RelayStop(self._listener.address, authkey, stop_event)
        self._threads = [threading.Thread(target=self._accept, name="studio-relay-accept", daemon=True),
                         threading.Thread(target=self._watch_stop, name="studio-relay-stop", daemon=True)]
        for thread in self._threads:
            thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn = self._listener.accept()
            except (OSError, EOFError, AuthenticationError):
                if self._closed.is_set():
                    return
                continue  # a connection that did not authenticate: ignored
            if self._closed.is_set():
                conn.close()
                return
            reader = threading.Thread(target=self._read, args=(conn,), name="studio-relay-read", daemon=True)
            with self._lock:
                self._clients.append(conn)
                self._readers.append(reader)
            reader.start()

    def _read(self, conn: Connection) -> None:
        while True:
            try:
                batch = conn.recv()
            except (EOFError, OSError):
                return
            for event in batch:
                self._deliver(event)

    def _watch_stop(self) -> None:
        # The GUI's stop event is a multiprocessing.Event: waiting on it costs nothing until it is set.
        while not self._closed.is_set():
            if hasattr(self._stop_event, "wait"):
                if self._stop_event.wait(0.2):
                    break
            elif self._stop_event.is_set() or self._closed.wait(0.2):
                break
        if self._closed.is_set():
            return
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            try:
                conn.send(_STOP)
            except OSError:
                pass
        # Copies that connect after the stop (a slow rank) hear about it on their first poll.
        while not self._closed.wait(0.2):
            with self._lock:
                fresh = [c for c in self._clients if c not in clients]
            for conn in fresh:
                try:
                    conn.send(_STOP)
                except OSError:
                    pass
            clients += fresh

    def close(self) -> None:
        """Stop accepting, close every connection and end the relay's threads (the run is over)."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:  # wake the accept() call (closing the listening socket alone does not)
            socket.create_connection(self.sink.address, timeout=5).close()
        except OSError:
            pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for conn in self._clients:
                _hang_up(conn)
            self._clients.clear()
        for thread in self._readers:
            thread.join(timeout=5)


def _hang_up(conn: Connection) -> None:
    """Close ``conn`` so that a thread blocked in its ``recv`` wakes (closing the descriptor alone does not)."""
    try:
        with socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM) as duplicate:
            duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    conn.close()
