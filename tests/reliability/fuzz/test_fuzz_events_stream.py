"""Events as the studio reads them: ``events.jsonl`` reopened (torn last line, garbage lines, out-of-order steps, a
big file) and the child-to-GUI message stream (malformed, oversized, out-of-order messages).

The studio shows every readable event and counts the rest; the run model and the window never raise on what they
are sent.
"""

from __future__ import annotations

import json
import pickle
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.models.run_state import RunModel
from studio.protocol import events as ev
from studio.protocol.stream import read_events_file, well_formed
from tests.reliability.fuzz.fuzzing import fuzz_settings

pytestmark = pytest.mark.fuzz

_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**64), 2**64), st.floats(allow_nan=False),
              st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=10)
_FIELDS = ["run_id", "mode", "log_dir", "stage", "status", "reason", "max_epochs", "max_steps", "epoch", "step",
           "batch", "num_batches", "total", "metrics", "names", "steps", "epochs", "values", "seq", "time", "level",
           "text", "path", "monitor", "score", "kind", "tag", "exc_type", "traceback", "user_frame", "result",
           "rows", "layers", "counts", "min", "max", "width", "height", "total_params", "trainable_params"]
_TYPES = st.sampled_from([*ev.EVENT_TYPES, "_metrics_block", "", "unknown"])


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"type": draw(_TYPES)}
    for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=6, unique=True)):
        event[name] = draw(_JSON)
    if event["type"] == "_metrics_block" and draw(st.booleans()):  # a block of the right shape, odd contents
        n = draw(st.integers(0, 5))
        event.update(names=draw(st.lists(st.text(max_size=5), max_size=3)),
                     steps=draw(st.lists(st.one_of(st.integers(-5, 5), st.floats(), st.none()), min_size=n,
                                         max_size=n)),
                     values=draw(st.lists(st.lists(_JSON, max_size=n), max_size=3)))
    return event


def _good_lines(n: int) -> list[str]:
    return [json.dumps({"type": ev.METRICS, "step": i, "epoch": 0, "metrics": {"loss": 1.0 / (i + 1)}, "seq": i})
            for i in range(n)]


@fuzz_settings()
@given(count=st.integers(0, 40), garbage=st.lists(st.tuples(st.integers(0, 40), st.one_of(
    st.text(max_size=60), st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    _JSON.map(json.dumps))), max_size=6), cut=st.integers(0, 200))
def test_events_file_shows_every_readable_event_and_counts_the_rest(
        tmp_path: Path, count: int, garbage: list[tuple[int, str]], cut: int) -> None:
    lines = _good_lines(count)
    for position, text in garbage:
        lines.insert(min(position, len(lines)), text.replace("\n", " ").replace("\r", " "))
    body = "\n".join(lines)
    torn = lines and cut < len(lines[-1])
    if torn:  # a run killed mid-write: the last line stops at some byte
        body = body[: len(body) - len(lines[-1]) + cut]
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "events.jsonl"
    path.write_text(body, encoding="utf-8", errors="surrogateescape")
    read = read_events_file(path)
    metrics = [e for e in read.events if e.get("type") == ev.METRICS and "seq" in e]
    expected = count - (1 if torn and lines[-1].startswith('{"type": "metrics"') else 0)
    assert len(metrics) >= expected  # every intact event is read, garbage lines do not stop the ones after
    nonblank = [line for line in body.split("\n") if line.strip()]
    assert len(read.events) + read.skipped + sum(read.thinned.values()) == len(nonblank)
    RunModel().apply(read.events)  # and replaying what was read never raises


def test_garbage_bytes_and_a_torn_line_are_named_in_the_console_note(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    good = _good_lines(3)
    path.write_bytes((good[0] + "\n\xff\xfe garbage\n" + good[1] + "\n[[[\n5\n" + good[2][:10]).encode("latin-1"))
    read = read_events_file(path)
    assert [e["step"] for e in read.events] == [0, 1]
    assert read.skipped == 4 and read.first_skipped_line == 2
    assert "4 unreadable line(s)" in (read.skipped_note(path) or "")


def test_out_of_order_steps_replay_without_error(tmp_path: Path) -> None:
    model = RunModel()
    steps = [5, 3, 3, 9, 0, -1, 7]
    model.apply([{"type": ev.METRICS, "step": s, "epoch": 0, "metrics": {"loss": float(s)}} for s in steps])
    assert model.events_skipped == 0 and model.latest["loss"] == 7.0


def test_a_big_events_file_reads_in_bounded_time_and_memory(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    line = json.dumps({"type": ev.METRICS, "step": 1, "epoch": 0, "metrics": {"loss": 0.5, "acc": 0.25}}) + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(40):
            handle.write(line * 2500)
            handle.write("garbage " * 10 + "\n")
    started = time.monotonic()
    read = read_events_file(path, max_points=1000)
    # One stream of 100,000 events thinned to at most 1,000 (plus the newest), every line accounted for.
    assert 500 <= len(read.events) <= 1001 and read.skipped == 40
    assert len(read.events) + read.thinned["metrics"] == 100_000
    assert time.monotonic() - started < 30


@fuzz_settings(scale=0.5)
@given(batch=st.one_of(st.lists(_events(), max_size=8), _JSON))
def test_the_run_model_never_raises_on_a_message(batch: Any) -> None:
    model = RunModel()
    events, dropped = well_formed(batch)
    model.apply(events)
    assert dropped >= 0 and model.events_seen == len(events)


@pytest.fixture
def window(qtbot: Any) -> Any:
    """The studio window on the bundled example (no run is started: events are fed in directly)."""
    from studio.app import create_window

    made = create_window(None)
    qtbot.addWidget(made)
    yield made
    made.session.shutdown()


@fuzz_settings(scale=0.25)
@given(batches=st.lists(st.one_of(st.lists(_events(), max_size=6), _JSON), min_size=1, max_size=4))
def test_the_window_never_crashes_on_malformed_or_out_of_order_messages(window: Any, qtbot: Any,
                                                                         batches: list[Any]) -> None:
    window.session.model.reset(mode="fit")
    window.session.cleared.emit()
    for batch in batches:
        events, _ = well_formed(batch)
        window.session._on_events(events)  # what the controller's events signal calls
        window.session.tick.emit()  # redraw now
    qtbot.wait(1)  # let queued slots run; pytest-qt fails the test on any exception raised in a slot
    window.session._on_events([{"type": ev.LOG, "level": "info", "text": "still alive"}])
    assert window.session.model.console[-1] == ("info", "still alive")


def test_oversized_and_unpicklable_pipe_messages_are_dropped(window: Any) -> None:
    """The controller's reader on a real pipe: a huge batch passes, a message that does not unpickle is dropped."""
    import multiprocessing

    controller = window.session.controller
    receiver, sender = multiprocessing.Pipe(duplex=False)
    controller._conn = receiver
    huge = [{"type": ev.LOG, "level": "info", "text": "x" * 1_000_000}] + [
        {"type": ev.METRICS, "step": i, "metrics": {"loss": 1.0}} for i in range(20_000)]

    def send_all() -> None:  # from a thread: a 21 MB message fills the pipe until the reader drains it
        sender.send(huge)
        sender.send_bytes(pickle.dumps([{"type": ev.LOG}])[:-3])  # a cut-off pickle
        sender.send_bytes(b"not a pickle")
        sender.send("a string, not a batch")
        sender.send([{"type": ev.LOG, "level": "info", "text": "after"}, 42, None])

    thread = threading.Thread(target=send_all, daemon=True)
    thread.start()
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while not (events and events[-1].get("text") == "after") and time.monotonic() < deadline:
        more, closed = controller._drain(None)
        assert not closed
        events += more
        receiver.poll(0.05)
    thread.join(10)
    assert len(events) == len(huge) + 1 and events[-1]["text"] == "after"
    assert controller.dropped == 5  # two broken pickles, the string, 42 and None
    window.session._on_events(events)
    sender.close()
    receiver.close()
    controller._conn = None
