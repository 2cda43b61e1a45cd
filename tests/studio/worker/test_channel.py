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
            channel.put({"type": "log", "i": i})
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0
    assert channel.coalesced > 0
    conn.release.set()
    channel.close()
    delivered = [e for batch in conn.batches for e in batch]
    assert len([e for e in delivered if e["type"] == "log"]) == 100  # never dropped
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


def test_pack_merges_metrics_runs_into_columns_and_keeps_order():
    from studio.models.run_state import RunModel
    from studio.worker.channel import pack

    events = [{"type": "metrics", "seq": i, "step": i, "epoch": 0, "metrics": {"a": float(i), "b": 1.0}}
              for i in range(5)]
    events.insert(2, {"type": "log", "level": "info", "stream": "stdout", "text": "x"})
    packed = pack(events)
    assert [e["type"] for e in packed] == ["_metrics_block", "log", "_metrics_block"]
    assert packed[2]["steps"] == [2, 3, 4] and packed[2]["values"] == [[2.0, 3.0, 4.0], [1.0, 1.0, 1.0]]
    model = RunModel()
    model.apply(packed)
    x, y = model.metrics.series("a").view()
    assert list(x) == [0, 1, 2, 3, 4] and list(y) == [0, 1, 2, 3, 4]
    assert model.metrics.series("a").kind == "step"  # five points in one epoch


def test_a_backlog_of_undroppable_events_stays_cheap_to_append_to():
    conn = SlowConn()
    channel = Channel(conn, interval=0.001, max_pending=1000).start()
    start = time.perf_counter()
    for i in range(100_000):
        channel.put({"type": "log", "i": i})
    elapsed = time.perf_counter() - start
    conn.release.set()
    channel.close()
    assert sum(len(b) for b in conn.batches) == 100_000
    assert elapsed < 2.0, elapsed  # a rescan per put would take minutes


def test_a_gui_that_closes_its_end_turns_the_channel_file_only():
    """The real pipe: the GUI closes its read end (window closed, run kept): puts go on, the hook runs once."""
    import multiprocessing

    receiver, sender = multiprocessing.get_context("spawn").Pipe(duplex=False)
    broken = []
    channel = Channel(sender, interval=0.001, on_broken=lambda: broken.append(1)).start()
    channel.put({"type": "log", "i": 0})
    channel.flush()
    assert receiver.recv()[0]["i"] == 0
    receiver.close()
    for i in range(1, 2001):  # the training loop keeps putting; none of this may raise or grow without bound
        channel.put({"type": "metrics", "metrics": {"loss": float(i)}, "step": i})
        channel.flush()
        if channel.broken:
            break
    channel.close()
    assert channel.broken and broken == [1]
    channel.put({"type": "log"})  # after the break: dropped here (events.jsonl has it), no error
    assert not channel._pending
