"""RunSession's public follow API: a run fed by any source (a local file, an SSH stream) is shown live and ends."""

from __future__ import annotations

import json

from PySide6.QtCore import QObject

from studio.models.run_state import RunStatus
from studio.services.run_follower import RunFollower
from studio.services.session import RunSession


class _Stream(QObject):
    """Stands in for an SSH stream: records being started and stopped."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")


def _lines(*events: dict) -> bytes:
    return "".join(json.dumps(event) + "\n" for event in events).encode()


def test_an_attached_follower_fills_the_views_and_its_end_ends_the_run(qtbot) -> None:
    session = RunSession()
    follower, stream = RunFollower(), _Stream()
    with qtbot.waitSignal(session.run_started):
        session.attach_follower(follower, where="gpu:/runs/v0", how="over SSH", source=stream)
    assert stream.calls == ["start"] and session.follower is follower
    assert session.model.status == RunStatus.RUNNING and session.model.log_dir == "gpu:/runs/v0"
    with qtbot.waitSignal(session.updated):
        follower.feed(_lines({"type": "run_started", "mode": "fit"},
                             {"type": "metrics", "step": 0, "metrics": {"loss": 0.5}}))
    assert session.model.metrics.series("loss")
    with qtbot.waitSignal(session.run_ended) as ended:
        follower.feed(_lines({"type": "stage_finished", "stage": "fit", "status": "finished"}))
    assert ended.args[0] == RunStatus.FINISHED
    session.note("warning", "a note for the console")
    assert any("a note for the console" in line[-1] for line in session.model.console)
    session.stop_following()
    assert stream.calls == ["start", "stop"] and session.follower is None


def test_following_another_run_stops_the_first_source(qtbot, tmp_path) -> None:
    session = RunSession()
    first = _Stream()
    session.attach_follower(RunFollower(), where="a:/one", source=first)
    (tmp_path / "events.jsonl").write_bytes(_lines({"type": "run_started", "mode": "fit"}))
    session.follow_run(tmp_path)
    assert first.calls == ["start", "stop"]
    assert session.model.log_dir == str(tmp_path) and session.model.media.run_dir == str(tmp_path)
    session.stop_following()


def test_following_a_run_that_has_already_ended_starts_then_ends_it(qtbot, tmp_path) -> None:
    (tmp_path / "events.jsonl").write_bytes(_lines({"type": "run_started", "mode": "fit"},
                                                   {"type": "stage_finished", "stage": "fit", "status": "finished"}))
    session = RunSession()
    signals: list[str] = []
    session.run_started.connect(lambda _mode: signals.append("started"))
    session.run_ended.connect(lambda status, _reason: signals.append(status))
    session.follow_run(tmp_path)
    ended_later: list[str] = []
    session.run_ended.connect(lambda status, _reason: ended_later.append(status))  # as the sweep's trial chain does
    qtbot.waitUntil(lambda: session.model.ended, timeout=5000)
    assert signals == ["started", RunStatus.FINISHED], "the end comes after the start, never inside follow_run"
    assert ended_later == [RunStatus.FINISHED], "a handler connected right after follow_run hears the end"
    session.stop_following()


class _Stopper:
    """Stands in for a run's stop and kill over ssh or scancel: records the calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def describe(self) -> str:
        return "pid 7 on gpu"

    def stop(self) -> None:
        self.calls.append("stop")

    def kill(self) -> None:
        self.calls.append("kill")


def test_stop_then_kill_reach_a_followed_run_started_elsewhere(qtbot) -> None:
    session = RunSession()
    session.attach_follower(RunFollower(), where="gpu:/runs/v0", source=_Stream())
    assert not session.can_stop, "a run only watched has nothing to stop"
    stopper = _Stopper()
    session.attach_follower(RunFollower(), where="gpu:/runs/v1", source=_Stream(), stopper=stopper)
    assert session.can_stop and not session.stop_requested
    session.stop()
    assert stopper.calls == ["stop"] and session.stop_requested and session.model.status == RunStatus.STOPPING
    session.stop()
    assert stopper.calls == ["stop", "kill"], "the second Stop kills"
    with qtbot.waitSignal(session.run_ended) as ended:
        session.end_following(RunStatus.INTERRUPTED, "killed (pid 7 on gpu), no checkpoint")
    assert ended.args[0] == RunStatus.INTERRUPTED and not session.can_stop and session.follower is None
