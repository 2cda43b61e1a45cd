"""The GPU and system tab of a run that is not training here shows that run's own record, never this machine now."""

from __future__ import annotations

import json
import shutil

from dashboard_helpers import FIT_RUN, FakeNvml, show


def _view(qtbot, session):
    from studio.models.dashboards.system import GpuSampler
    from studio.qt.dashboards.system_view import SystemView

    view = show(qtbot, SystemView(session, gpu=GpuSampler(FakeNvml())))
    view.timer.stop()
    return view


def test_a_reopened_run_without_samples_says_so_instead_of_showing_this_machine(qtbot, session):
    view = _view(qtbot, session)
    session.open_run(FIT_RUN)  # recorded without the studio's samples and without a stats callback
    view.sample()
    view.sample()
    # Before: this machine's GPU (the fake H100), CPU and RAM were drawn as if they were the run's.
    assert not view.gpu_table.isVisible()
    assert "recorded no GPU or system samples" in view.gpu_label.text()
    assert "DeviceStatsMonitor" in view.process_label.text()
    assert not view.plot_widget.isVisible() and view.series() == {}
    assert not any(view.history.values())


def test_a_reopened_run_shows_the_figures_its_stats_callback_logged(qtbot, session, tmp_path):
    run = tmp_path / "version_0"
    run.mkdir()
    shutil.copy(FIT_RUN / "events.jsonl", run / "events.jsonl")
    logged = [{"type": "metrics", "step": step, "epoch": 0, "time": 1000.0 + step,
               "metrics": {"on_train_batch_start/cpu_percent": 30.0 + step,
                          "on_train_batch_start/cpu_vm_percent": 41.0,
                          "on_train_batch_start/cpu_swap_percent": 0.0}} for step in (9, 19, 29)]
    with open(run / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(event) + "\n" for event in logged))
    view = _view(qtbot, session)
    session.open_run(run)
    view.sample()
    series = view.series()
    assert set(series) == {"system CPU % (DeviceStatsMonitor)", "system RAM used % (DeviceStatsMonitor)"}
    x, y = series["system CPU % (DeviceStatsMonitor)"]
    assert list(x) == [9.0, 19.0, 29.0] and list(y) == [39.0, 49.0, 59.0]
    assert not view.gpu_table.isVisible() and "logged by the run itself" in view.process_label.text()


def test_with_no_run_shown_the_tab_samples_this_machine_and_says_so(qtbot, session):
    view = _view(qtbot, session)
    view.sample()
    assert view.gpu_table.isVisible() and "of this machine" in view.gpu_label.text()
    assert view.gpu_model.table.rows[0][7] == "no run"


def test_a_run_followed_from_another_machine_gets_no_samples_of_this_one(qtbot, session, tmp_path):
    from studio.models.dashboards.system import GpuSampler
    from studio.services.run_follower import RunFollower

    session.system.gpu = GpuSampler(FakeNvml())
    follower = RunFollower(tmp_path, parent=session)
    session.attach_follower(follower, where="gpu-box:/runs/version_3", run_dir=None)
    try:
        # Before: the monitor sampled this machine once a second and filed it under the remote run.
        assert not session.system.active and "system_sample" not in session.model.extras
        view = _view(qtbot, session)
        view.sample()
        assert not view.gpu_table.isVisible() and "another machine" in view.gpu_label.text()
    finally:
        session.stop_following()
