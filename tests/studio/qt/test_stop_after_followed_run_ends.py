"""Stop is greyed out as soon as a followed run's own final event arrives (before its stream closes)."""

from __future__ import annotations

from studio.services.session import RunSession


def test_stop_is_disabled_when_the_followed_run_ends(make_window, monkeypatch):
    window = make_window()
    # A run this studio started on a server: Stop means something until the run has ended.
    monkeypatch.setattr(RunSession, "can_stop", property(lambda self: not self.model.ended))
    window.session.model.reset(mode="fit")
    window.session.model.apply([{"type": "run_started", "run_id": "r", "seq": 0, "time": 1.0, "mode": "fit",
                                 "log_dir": "/srv/v0", "pid": 7, "config": {}}])
    window.sync_actions()
    assert window.stop_action.isEnabled()
    final = [{"type": "run_finished", "run_id": "r", "seq": 1, "time": 2.0, "status": "finished", "reason": "",
              "metrics": {}, "result": {}}]
    window.session.updated.emit(window.session.model.apply(final))  # what the session does with a streamed batch
    assert not window.stop_action.isEnabled()
