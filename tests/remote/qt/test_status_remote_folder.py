"""The status strip's "run folder" for a run followed on another machine: ``host:folder``, not a local link."""

from __future__ import annotations

import json

from PySide6.QtCore import QObject

from studio.qt.status_view import StatusView
from studio.services.run_follower import RunFollower
from studio.services.session import RunSession


class _Stream(QObject):
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def test_a_remote_runs_folder_reads_host_and_folder_and_a_local_one_is_a_link(qtbot, tmp_path) -> None:
    session = RunSession()
    view = StatusView(session)
    qtbot.addWidget(view)
    view.resize(900, 120)
    follower = RunFollower()
    session.attach_follower(follower, where="gpu:/srv/runs/version_0", how="over SSH", source=_Stream())
    with qtbot.waitSignal(session.updated):  # the run's own event names its folder as the server sees it
        follower.feed(json.dumps({"type": "run_started", "mode": "fit", "log_dir": "/srv/runs/version_0"})
                      .encode() + b"\n")
    view.refresh()
    assert view.folder.full_text() == "gpu:/srv/runs/version_0"
    assert "<a" not in view.folder.text(), "a folder on another machine is no link to a local path"
    (tmp_path / "events.jsonl").write_text(json.dumps({"type": "run_started", "mode": "fit",
                                                       "log_dir": str(tmp_path)}) + "\n")
    session.follow_run(tmp_path)
    view.refresh()
    assert view.folder.full_text() == str(tmp_path) and "<a" in view.folder.text(), "a local run folder opens"
    session.stop_following()
