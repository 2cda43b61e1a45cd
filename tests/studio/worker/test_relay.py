"""The relay that carries a spawned rank's events and the stop request across processes (tested in-process)."""

from __future__ import annotations

import pickle
import threading
import time

from studio.worker import relay as relay_module


def _until(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_copy_sends_rank_zero_events_and_hears_the_stop(monkeypatch):
    delivered = []
    stop = threading.Event()
    relay = relay_module.EventRelay(delivered.append, stop)
    try:
        relay.sink({"type": "local"})  # in the training child: straight through, no socket
        assert delivered == [{"type": "local"}]
        sink, stopper = pickle.loads(pickle.dumps((relay.sink, relay.stop)))  # what a spawned worker gets
        rank = {"value": None}
        monkeypatch.setattr(relay_module, "_rank", lambda: rank["value"])
        sink({"type": "early"})  # before the process group exists: kept until the rank is known
        rank["value"] = 0
        sink({"type": "progress"})
        _until(lambda: len(delivered) == 3)
        assert [e["type"] for e in delivered] == ["local", "early", "progress"]
        other = pickle.loads(pickle.dumps(relay.sink))
        rank["value"] = 1
        other({"type": "from rank 1"})  # dropped: only rank 0's stream reaches the views
        assert not stopper.is_set()
        stop.set()
        _until(stopper.is_set)
    finally:
        relay.close()
    assert len(delivered) == 3
