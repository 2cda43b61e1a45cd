import threading
import time

from studio.worker.channel import Channel


class SlowConn:
    """A pipe end whose reader is stuck until released."""

    def __init__(self):
        self.release = threading.Event()
        self.batches = []
        self.closed = False

    def send(self, batch):
        self.release.wait(10)
        self.batches.append(batch)

    def close(self):
        self.closed = True


def test_put_never_waits_for_a_stuck_reader_and_coalesces_progress_only():
    conn = SlowConn()
    channel = Channel(conn, interval=0.001, max_pending=100).start()
    start = time.perf_counter()
    for i in range(5000):
        channel.put({"type": "progress", "i": i})
        if i % 50 == 0:
            channel.put({"type": "metrics", "i": i})
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    assert channel.coalesced > 0
    conn.release.set()
    channel.close()
    delivered = [e for batch in conn.batches for e in batch]
    assert len([e for e in delivered if e["type"] == "metrics"]) == 100  # never dropped
    progress = [e["i"] for e in delivered if e["type"] == "progress"]
    assert progress == sorted(progress) and progress[-1] == 4999  # the newest survives
    assert conn.closed


def test_close_flushes_everything_in_order():
    conn = SlowConn()
    conn.release.set()
    channel = Channel(conn, interval=10).start()
    for i in range(10):
        channel.put({"type": "log", "i": i})
    channel.close()
    assert [e["i"] for batch in conn.batches for e in batch] == list(range(10))


def test_a_broken_pipe_stops_sending_without_raising():
    class Broken:
        def send(self, batch):
            raise BrokenPipeError

        def close(self):
            pass

    channel = Channel(Broken(), interval=0.001).start()
    channel.put({"type": "log"})
    channel.close()
    assert channel.sent == 0
