"""Following a run another process writes: events as they are appended, its end, its stall; the same end rule as
the engine's `python -m trainer_core.follow`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from studio.protocol.run_end import RunEnd
from studio.services.run_follower import RunFollower


def _line(**event) -> bytes:
    return (json.dumps(event) + "\n").encode()


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def test_appended_events_arrive_once_torn_lines_wait_for_their_end(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(_line(type="run_started", mode="fit", seq=0))
    follower = RunFollower(tmp_path, poll_ms=100)
    received: list[dict] = []
    follower.events.connect(received.extend)
    with qtbot.waitSignal(follower.events, timeout=5000):
        follower.start()
    metrics = _line(type="metrics", step=0, metrics={"loss": 1.0}, seq=1)
    _append(path, b"garbage\n" + metrics[:20])  # a garbage line, then a torn one: only its first part is on disk
    qtbot.waitUntil(lambda: follower.skipped == 1, timeout=5000)
    assert [e["type"] for e in received] == ["run_started"]
    with qtbot.waitSignal(follower.events, timeout=5000):
        _append(path, metrics[20:])
    assert received[-1] == {"type": "metrics", "step": 0, "metrics": {"loss": 1.0}, "seq": 1}
    with qtbot.waitSignal(follower.ended, timeout=5000) as ended:
        _append(path, _line(type="stage_finished", stage="fit", status="finished", seq=2))
    assert ended.args[0] == "finished"
    assert [e["seq"] for e in received] == [0, 1, 2], "every event exactly once"
    assert follower.offset == path.stat().st_size


def test_a_run_that_ended_before_it_was_followed_says_so_after_start_returns(qtbot, tmp_path: Path) -> None:
    # A sweep's trial can finish before the studio finds it: its end must reach handlers connected after start().
    (tmp_path / "events.jsonl").write_bytes(_line(type="run_started", mode="fit", seq=0)
                                            + _line(type="stage_finished", stage="fit", status="finished", seq=1))
    follower = RunFollower(tmp_path)
    follower.start()
    assert not follower.finished, "nothing is read inside start()"
    with qtbot.waitSignal(follower.ended, timeout=5000) as ended:
        pass
    assert ended.args[0] == "finished" and follower.finished


def test_a_quiet_run_is_reported_as_stalled_then_resumed(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(_line(type="run_started", mode="fit", seq=0))
    follower = RunFollower(path, poll_ms=30, stall_s=0.2)
    with qtbot.waitSignal(follower.stalled, timeout=5000):
        follower.start()
    with qtbot.waitSignal(follower.resumed, timeout=5000):
        _append(path, _line(type="metrics", step=0, metrics={}, seq=1))
    follower.stop()


def test_a_stream_fed_in_pieces_counts_the_bytes_it_took(qtbot) -> None:
    follower = RunFollower()
    received: list[dict] = []
    follower.events.connect(received.extend)
    data = _line(type="run_started", mode="test", seq=0) + _line(type="stage_finished", stage="test", seq=1)
    follower.feed(data[:7])
    assert follower.offset == 0 and received == []
    with qtbot.waitSignal(follower.ended, timeout=1000):
        follower.feed(data[7:])
    assert follower.offset == len(data) and len(received) == 2


SEQUENCES = [
    [{"type": "run_started", "mode": "fit"}, {"type": "stage_finished", "stage": "fit", "status": "finished"}],
    [{"type": "run_started", "mode": "debug"}, {"type": "stage_finished", "stage": "fit", "status": "failed"}],
    [{"type": "run_started", "mode": "test"}, {"type": "stage_finished", "stage": "fit", "status": "finished"}],
    [{"type": "run_started", "mode": "fit"}, {"type": "run_finished", "status": "interrupted"}],
    [{"type": "run_started", "mode": "?"}, {"type": "stage_finished", "stage": "x", "status": "interrupted"}],
    [{"type": "metrics"}, {"type": "stage_finished", "stage": "fit", "status": "finished"}],
]


@pytest.mark.parametrize("events", SEQUENCES)
def test_the_studio_and_the_engine_agree_on_when_a_run_ends(events: list[dict]) -> None:
    from trainer_core.follow import RunEndWatcher

    studio, engine = RunEnd(), RunEndWatcher()
    assert [studio.feed(e) for e in events] == [engine.feed(e) for e in events]
    assert studio.status == engine.status


def test_the_runs_list_shows_a_run_being_written_as_running(tmp_path: Path) -> None:
    from studio.models.dashboards.history import summarize_run

    path = tmp_path / "events.jsonl"
    path.write_bytes(_line(type="run_started", mode="fit", seq=0, time=1.0) + _line(type="metrics", seq=1, time=2.0))
    assert summarize_run(tmp_path).status == "running"
    old = path.stat().st_mtime - 3600
    os.utime(path, (old, old))  # an hour without a new event: killed or stuck
    assert summarize_run(tmp_path).status == "incomplete"
    _append(path, _line(type="stage_finished", stage="fit", status="interrupted", seq=2, time=3.0))
    assert summarize_run(tmp_path).status == "interrupted"
