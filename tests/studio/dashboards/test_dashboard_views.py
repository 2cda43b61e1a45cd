"""Each dashboard view driven by the recorded events (replayed, and fed live in batches)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from dashboard_helpers import FIT_RUN, TUNE_RUN, FakeNvml, feed, show
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.models.dashboards.checkpoints import CheckpointRow


def test_gradients_view_live_marks_and_clipping(qtbot, session, fit_events):
    from studio.qt.dashboards.gradients_view import GradientsView

    view = show(qtbot, GradientsView(session))
    assert "track_grad_norm" in view.status.text()
    feed(session, fit_events)
    qtbot.waitUntil(lambda: view.layer_list.count() == 4)  # drawn by the session clock while visible
    view.refresh(force=True)
    assert view.layout_info.total == "grad_2.0_norm_total_step"
    assert view.layer_list.count() == 4
    x, _ = view.total_plot._items["grad_2.0_norm_total_step"].getData()
    assert len(x) == 48
    assert view.clip == 5.0 and "23 of 48 logged steps clipped" in view.clip_label.text()
    assert view.clip_line.isVisible()
    assert "no exploded or vanished" in view.status.text()
    view.set_thresholds(exploded=15.0, vanished=1.5)
    assert view.status.text().startswith("Warning: exploded gradient norm at 3 step(s)")
    assert "vanishing gradient norm" in view.status.text()
    assert len(view.exploded_marks.data) == 3
    view.mode.setCurrentIndex(1)
    assert view.stack.currentIndex() == 1 and len(view.layer_plot.names()) == 4
    view.mode.setCurrentIndex(0)
    image = view.heat_item.image
    assert image is not None and image.shape == (48, 4)


def test_learning_rate_view_draws_lr_monitor_series(qtbot, session):
    from studio.qt.dashboards.lr_view import LearningRateView

    view = show(qtbot, LearningRateView(session))
    session.open_run(FIT_RUN)
    qtbot.waitUntil(lambda: view.plot.names() == ["lr-SGD"])
    view.refresh(force=True)
    x, y = view.plot._items["lr-SGD"].getData()
    assert y.max() == pytest.approx(0.05) and y.min() == pytest.approx(0.0125)
    assert "SGD = 0.0125" in view.note.text()


def test_lr_finder_live_curve_suggestion_and_apply(qtbot, window, tune_events):
    view = window.dashboard_views["LR finder"]
    window.views.setCurrentWidget(view)
    points = [e for e in tune_events if e["type"] == "lr_find_point"]
    feed(window.session, points[:30])
    view.refresh()
    assert len(view.curve.lr) == 30 and view.curve.stop_reason == "running"
    feed(window.session, points[30:] + [tune_events[-1]])
    view.refresh()
    assert len(view.curve.lr) == 59
    suggestion = tune_events[-1]["result"]["tune"]["lr"]
    assert view.marker.isVisible() and view.marker.value() == pytest.approx(np.log10(suggestion))
    assert "Stop: diverged at step 58" in view.info.text()
    assert view.apply_button.isEnabled()
    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    assert window.model_form.values()[0]["lr"] == pytest.approx(float(f"{suggestion:.3g}"))
    assert "Applied: Set the model argument lr" in view.info.text()


def test_batch_finder_table_plot_and_apply(qtbot, window):
    view = window.dashboard_views["Batch size"]
    window.views.setCurrentWidget(view)
    window.session.open_run(TUNE_RUN)
    view.refresh()
    assert view.model.rowCount() == 5
    assert [view.model.table.rows[i][1] for i in range(5)] == [2, 4, 8, 16, 32]
    assert view.model.highlight == {4}
    assert len(view.fits.getData()[0]) == 5
    assert view.oom.getData()[0] is None or len(view.oom.getData()[0]) == 0  # nothing ran out of memory
    window.views.resize(700, 500)
    QApplication.processEvents()
    assert view.table.horizontalScrollBar().maximum() == 0  # every column in view, no horizontal scrolling
    window.project.batch_size.setValue(3)
    view.apply()
    assert window.project.batch_size.value() == 32
    assert window.model_form.values()[0].get("batch_size", 32) == 32 and "32" in view.info.text()
    assert "32" in window.statusBar().currentMessage()


def test_batch_finder_plot_ticks_the_sizes_tried_and_keeps_its_points_clear(qtbot, window):
    import math

    from PySide6.QtGui import QColor

    view = window.dashboard_views["Batch size"]
    window.views.setCurrentWidget(view)
    window.session.open_run(TUNE_RUN)
    view.refresh()
    axis = view.plot.getAxis("bottom")
    # The default log ticks (2, 5, 20) fell between the powers of two tried, so the point at 8 read as about 7.
    assert axis._tickLevels == [[(math.log10(s), str(s)) for s in (2, 4, 8, 16, 32)]]
    assert view.plot.legend is None  # a legend box sat on the points of the smallest sizes
    swatch = view.model.data(view.model.index(0, 0), Qt.ItemDataRole.DecorationRole)
    assert isinstance(swatch, QColor) and swatch.name().lower() == "#009e73"  # the table is the legend


def test_system_view_without_and_with_nvml(qtbot, session, monkeypatch):
    from studio.models.dashboards.system import GpuSampler
    from studio.qt.dashboards.system_view import SystemView

    class Missing:
        def nvmlInit(self):  # noqa: N802
            raise type("NVMLError_LibraryNotFound", (Exception,), {})()

    view = show(qtbot, SystemView(session, gpu=GpuSampler(Missing())))
    view.sample()
    assert view.gpu_label.text().startswith("No NVIDIA driver found")
    assert not view.gpu_table.isVisible() and "No training process running" in view.process_label.text()

    monkeypatch.setattr(type(session.controller), "pid", property(lambda self: os.getpid()))
    gpu_view = show(qtbot, SystemView(session, gpu=GpuSampler(FakeNvml())))
    session.model.latest["memory_allocated"] = 3 * 2**30
    gpu_view.sample()
    gpu_view.sample()
    row = gpu_view.gpu_model.table.rows[0]
    assert row[1] == "NVIDIA H100 80GB HBM3" and row[4] == "87" and row[6].startswith("n/a")
    assert row[7] == "1.5 GiB"
    assert f"pid {os.getpid()}" in gpu_view.process_label.text()
    assert "allocated 3.0 GiB" in gpu_view.allocator_label.text()
    assert len(gpu_view.history["cpu"]) == 1  # the first look only primes the CPU counter: no fake 0 % point


def test_summary_view_depth_and_export(qtbot, session, tmp_path):
    from studio.models.dashboards.tables import to_csv, to_markdown
    from studio.qt.dashboards.tables_views import SummaryView

    view = show(qtbot, SummaryView(session))
    assert "No weights summary" in view.info.text()
    session.open_run(FIT_RUN)
    view.rebuild()
    assert view.model.rowCount() == 4 and view.model.columnCount() == 5
    assert "129 trainable params" in view.info.text() and "0.001 MB" in view.info.text()
    view.depth_combo.setCurrentText("top")
    assert view.model.rowCount() == 2
    assert to_csv(view.current).splitlines()[1] == "encoder,Sequential,112,\"[2, 6]\",\"[2, 16]\""
    assert "| head | Linear | 17 |" in to_markdown(view.current)


def test_profiler_view_sorting_and_trace(qtbot, session, tmp_path):
    from studio.qt.dashboards.tables_views import ProfilerView, trace_files

    view = show(qtbot, ProfilerView(session))
    session.open_run(FIT_RUN)
    view.rebuild()
    assert view.stage.currentText() == "fit" and view.model.rowCount() == 44
    view.model.sort(2, Qt.SortOrder.DescendingOrder)
    calls = [row[2] for row in view.model.table.rows]
    assert calls == sorted(calls, reverse=True)
    assert not view.open_trace.isEnabled()
    trace = tmp_path / "fit-pytorch.pt.trace.json"
    trace.write_text("{}")
    session.model.log_dir = str(tmp_path)
    assert trace_files(str(tmp_path)) == [str(trace)]
    view.rebuild()
    assert view.open_trace.isEnabled() and str(trace) in view.info.text()


def test_checkpoints_view_best_highlight_and_copy(qtbot, session, tmp_path):
    from studio.qt.dashboards.tables_views import CheckpointsView, copy_checkpoint

    view = show(qtbot, CheckpointsView(session))
    session.open_run(FIT_RUN)
    view.rebuild()
    assert view.model.rowCount() == 7
    (best,) = view.model.highlight
    assert view.model.table.rows[best][0] == "epoch=5-step=96.ckpt"
    assert view.model.table.rows[0][5] == pytest.approx(20.155, rel=1e-4)
    assert view.model.data(view.model.index(best, 0), Qt.ItemDataRole.FontRole).bold()
    source = tmp_path / "a.ckpt"
    source.write_bytes(b"weights")
    out = copy_checkpoint(CheckpointRow(str(source), "best", 1, 2, "val_loss", 0.1), str(tmp_path / "copy"))
    assert Path(out).read_bytes() == b"weights"
    with pytest.raises(FileNotFoundError, match="no longer on disk"):
        copy_checkpoint(view.rows[0], str(tmp_path))


def test_history_overlay_compare_and_open(qtbot, session, runs_root):
    from studio.qt.dashboards.history_view import HistoryView

    view = show(qtbot, HistoryView(session, root=str(runs_root)))
    assert len(view.runs) == 2 and view.table.model().rowCount() == 2
    fit = next(r for r in view.runs if r.mode == "fit")
    model = view.table_model
    headers = model.headers()
    assert model.value(fit, headers.index("Status")) == "finished"
    assert "val_loss best" in headers and "hp: lr" in headers
    view.metric_combo.setCurrentText("val_loss")
    view.set_checked([r.path for r in view.runs])
    assert len(view.overlay.names()) == 1  # only the fit run logged val_loss
    swatched = [view.compare_model.table.rows[i][0] for i in view.compare_model.swatches]
    assert swatched == [fit.title]  # the values table is the overlay's legend: only the drawn run has a colour
    view.step.setValue(40)
    rows = {r[0]: r for r in view.compare_model.table.rows}
    assert len(rows) == 2
    row = rows[fit.title]
    assert row[1] == pytest.approx(10.9127, rel=1e-4) and row[2] == 31.0
    view.select_run(fit.path)
    view.open_selected()
    assert session.model.mode == "fit" and "val_loss" in session.model.metrics
    assert session.model.log_dir.endswith("version_0")


def test_window_has_every_dashboard_and_a_report(qtbot, window, tmp_path):
    from studio.qt.dashboards import VIEW_TITLES
    from studio.qt.dashboards.common import export_plot
    from studio.qt.dashboards.report_action import build_report

    titles = [window.views.tabText(i) for i in range(window.views.count())]
    assert all(title in titles for title in VIEW_TITLES)
    window.session.open_run(FIT_RUN)
    grads_view = window.dashboard_views["Gradients"]
    window.views.setCurrentWidget(grads_view)
    grads_view.refresh()
    png = export_plot(grads_view.total_plot.plot_item, str(tmp_path / "g.png"))
    svg = export_plot(grads_view.total_plot.plot_item, str(tmp_path / "g.svg"))
    csv_path = export_plot(grads_view.total_plot.plot_item, str(tmp_path / "g.csv"),
                           grads_view.total_plot.visible_series())
    assert Path(png).read_bytes()[:4] == b"\x89PNG" and "<svg" in Path(svg).read_text()
    assert Path(csv_path).read_text().splitlines()[0] == "step,total"
    html = build_report(window.session, window, tmp_path / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3  # metrics, gradient norm, learning rate
    assert "Weights summary" in html and "gradient_clip_val: 5.0" in html and "val_loss" in html
    md = build_report(window.session, window, tmp_path / "report.md")
    assert "## Final metrics" in md.read_text() and len(list((tmp_path / "report_files").glob("*.png"))) >= 3


def test_table_tabs_follow_a_live_run(qtbot, session, fit_events):
    from studio.qt.dashboards.tables_views import CheckpointsView, ProfilerView, SummaryView

    tabs = [show(qtbot, cls(session)) for cls in (SummaryView, ProfilerView, CheckpointsView)]
    first_checkpoint = next(i for i, e in enumerate(fit_events) if e["type"] == "checkpoint_saved")
    feed(session, fit_events[: first_checkpoint + 1])
    qtbot.waitUntil(lambda: tabs[0].model.rowCount() == 4 and tabs[2].model.rowCount() == 1)
    assert tabs[1].model.rowCount() == 0  # the profiler reports at the end of the stage
    feed(session, fit_events[first_checkpoint + 1 :])
    qtbot.waitUntil(lambda: tabs[1].model.rowCount() == 44 and tabs[2].model.rowCount() == 7)


def test_apply_without_a_matching_field_explains_what_to_do(qtbot):
    from studio.qt.applied_values import apply_lr
    from studio.qt.model_form import ArgsForm

    form = ArgsForm()
    qtbot.addWidget(form)
    taken, message = apply_lr(form, 3e-4)
    assert not taken and "has no lr or learning_rate argument" in message


def test_views_only_emit_signals_and_never_reach_the_window(qtbot, session, tune_events):
    """A view built without any window still offers Apply; the value leaves only through its signal."""
    from studio.qt.dashboards.tuner_views import BatchFinderView, LrFinderView

    finder = show(qtbot, LrFinderView(session))
    sizes = show(qtbot, BatchFinderView(session))
    feed(session, tune_events)
    finder.refresh(force=True)
    sizes.refresh(force=True)
    assert finder.apply_button.isEnabled() and sizes.apply_button.isEnabled()
    with qtbot.waitSignal(finder.lr_applied) as lr_signal:
        qtbot.mouseClick(finder.apply_button, Qt.MouseButton.LeftButton)
    assert lr_signal.args == [pytest.approx(tune_events[-1]["result"]["tune"]["lr"])]
    with qtbot.waitSignal(sizes.batch_size_applied) as size_signal:
        qtbot.mouseClick(sizes.apply_button, Qt.MouseButton.LeftButton)
    assert size_signal.args == [32]


def test_dashboard_modules_never_look_up_the_window():
    source_dir = Path(__file__).resolve().parents[3] / "studio" / "qt" / "dashboards"
    offenders = [path.name for path in source_dir.glob("*_view*.py")
                 if "session.parent()" in path.read_text() or "host_window" in path.read_text()]
    assert offenders == []


def test_the_report_names_one_duration_and_no_empty_tables(qtbot, window, tmp_path):
    from studio.qt.dashboards.report_action import build_report

    window.session.open_run(FIT_RUN)
    md = build_report(window.session, None, tmp_path / "report.md").read_text()
    duration = window.session.model.extras["run_finished"][-1]["duration_s"]
    assert f"{duration:.1f} s (the run, as the training process measured it)" in md
    assert "trust_checkpoint" not in md and "enable_progress_bar" not in md
    sections = md.split("## ")
    assert not any(s.startswith("Profiler") and "|" not in s for s in sections)


def test_lr_finder_keeps_the_noisy_raw_descent_in_view(qtbot, session):
    from studio.qt.dashboards.tuner_views import LrFinderView

    view = show(qtbot, LrFinderView(session))
    lrs = np.logspace(-5, 0, 40)
    smooth = np.concatenate([np.linspace(2.0, 1.0, 30), np.geomspace(1.0, 50.0, 10)])  # descent, then divergence
    raw = smooth + np.where(np.arange(40) % 2 == 0, 0.6, -0.6)  # a noisy batch loss around it
    feed(session, [{"type": "lr_find_point", "step": i, "lr": float(lr), "loss": float(r), "smoothed_loss": float(m)}
                   for i, (lr, r, m) in enumerate(zip(lrs, raw, smooth))])
    view.refresh(force=True)
    low, high = view.plot.viewRange()[1]
    descent = raw[:30]
    assert low <= descent.min() and high >= descent.max()  # the raw curve is not clipped
    assert high < 50.0  # the divergence tail stays cut off


def test_lr_finder_names_its_suggestion_and_keeps_raw_dips_in_view_when_the_loss_only_rises(qtbot, window):
    view = window.dashboard_views["LR finder"]
    window.views.setCurrentWidget(view)
    window.session.open_run(TUNE_RUN)  # drawn once: the marker was still hidden when its label was set
    view.refresh()
    suggestion = view.curve.suggestion
    assert view.marker.isVisible()
    assert view.marker.label.toPlainText() == f"suggested {suggestion:.3g}"  # the line stayed unlabelled
    # The recorded sweep never descends (its smoothed minimum is the first point); its raw loss dips far below.
    assert int(np.nanargmin(view.curve.smoothed)) == 0
    assert view.plot.legend is None  # a legend box covered the curve's start or its divergence
    low, _high = view.plot.viewRange()[1]
    raw = view.curve.loss[np.isfinite(view.curve.loss)]
    assert low <= raw.min()


def test_system_plot_shows_percentages_from_zero_to_at_least_a_hundred(qtbot, session):
    from studio.models.dashboards.system import GpuSampler
    from studio.qt.dashboards.system_view import SystemView

    view = show(qtbot, SystemView(session, gpu=GpuSampler(FakeNvml())))
    view.timer.stop()
    samples = [{"type": "system_sample", "time": 100.0 + i, "pid": 1, "cpu_percent": None if i == 0 else 40.0 + i,
                "ram_percent": 13.1 + 0.05 * i, "rss_bytes": 2**30, "gpus": []} for i in range(5)]
    feed(session, samples)
    view.sample()
    # Autoscaled, RAM at 13.1-13.3 % filled the plot: a flat line read as big swings.
    assert view.plot.viewRange()[1] == [0.0, 100.0]
    feed(session, [dict(samples[-1], time=106.0, cpu_percent=250.0)])  # more than one core busy
    view.sample()
    low, high = view.plot.viewRange()[1]
    assert low == 0.0 and high >= 250.0


def test_system_legend_names_only_the_lines_a_run_recorded(qtbot, session):
    from studio.models.dashboards.system import GpuSampler
    from studio.qt.dashboards.system_view import SystemView

    view = show(qtbot, SystemView(session, gpu=GpuSampler(FakeNvml())))
    view.timer.stop()
    feed(session, [{"type": "system_sample", "time": 100.0 + i, "pid": 1, "cpu_percent": 50.0, "ram_percent": 20.0,
                    "rss_bytes": 2**30, "gpus": []} for i in range(3)])  # a CPU-only run
    view.sample()
    assert [label.text for _sample, label in view.plot.legend.items] == ["training CPU % (per core)",
                                                                          "system RAM used %"]


def test_profiler_times_read_in_fixed_decimals(qtbot, session):
    from studio.qt.dashboards.tables_views import ProfilerView

    view = show(qtbot, ProfilerView(session))
    session.open_run(FIT_RUN)
    view.rebuild()
    means = [view.model.data(view.model.index(row, 1)) for row in range(view.model.rowCount())]
    # 6 significant digits printed 7.33444e-05 under 0.0553734, which read as 7 seconds.
    assert means and not any("e" in text for text in means)
    assert all(len(text.split(".")[1]) == 6 for text in means)
    raw = view.model.table.rows[0][1]
    assert float(means[0]) == pytest.approx(raw, abs=5e-7)  # the cell text is the raw value, rounded
