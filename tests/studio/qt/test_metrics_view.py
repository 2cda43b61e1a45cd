"""The metric grid fed directly from a run model (no child process)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from studio.qt.metrics_view import COLLAPSE_OVER, MetricsView, visible_range
from studio.services.session import RunSession


@pytest.fixture
def view(qtbot):
    session = RunSession()
    view = MetricsView(session)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    yield view
    session.shutdown()


def feed(view, steps, spike_at=None, extra=None):
    events = []
    for step in range(steps):
        value = 1.0 / (step + 1) + (100.0 if step == spike_at else 0.0)
        metrics = {"train_loss": value, **(extra(step) if extra else {})}
        events.append({"type": "metrics", "step": step, "epoch": step * 2 // steps, "time": 100.0 + step,
                       "metrics": metrics})
    events.append({"type": "epoch_finished", "stage": "validate", "epoch": 0, "step": steps,
                   "metrics": {"val_loss": 0.5}})
    view.session.model.apply(events)
    view.refresh(force=True)


def test_train_and_val_of_one_quantity_share_a_chart_with_its_own_title(view):
    feed(view, 500, extra=lambda s: {"lr-Adam": 1e-3})
    chart = view.chart_for("train_loss")
    assert chart is view.chart_for("val_loss")
    assert chart.title.text() == "loss" and list(chart.keys.buttons) == ["train_loss", "val_loss"]
    assert chart.plot.legend is None  # the key is in the header, not over the curves
    assert view.chart_for("lr-Adam") is not chart
    assert list(view.sections) == ["train / val", "other"]


def test_series_are_drawn_smoothed_over_the_raw_line(view):
    feed(view, 500)
    x, y = view.curve_data("train_loss")
    assert len(x) == 500
    raw = view.session.model.metrics.series("train_loss").view()[1]
    assert y[-1] > raw[-1]  # the EMA lags above a decreasing curve
    view.smoothing.setValue(0)
    _, y0 = view.curve_data("train_loss")
    np.testing.assert_allclose(y0, raw)


def test_a_learning_rate_schedule_is_drawn_as_it_is_not_smoothed(view):
    """An EMA of a decaying LR lagged the real schedule up to 10x at the end of the autoencoder's run."""
    feed(view, 200, extra=lambda s: {"lr-AdamW": 1e-2 * 0.97 ** s})
    raw = view.session.model.metrics.series("lr-AdamW").view()[1]
    _, drawn = view.curve_data("lr-AdamW")
    np.testing.assert_allclose(drawn, raw)
    assert not view.chart_for("lr-AdamW").curves["lr-AdamW"].raw.isVisible()  # no faint twin under it
    _, loss = view.curve_data("train_loss")
    assert loss[-1] != view.session.model.metrics.series("train_loss").view()[1][-1]  # losses still smoothed


def test_progress_bar_values_are_not_plotted(view):
    """Bug 5: the wall-clock progress samples' ``loss`` is not a metric the script logged."""
    view.session.model.apply([{"type": "progress", "stage": "train", "epoch": 0, "step": 3, "batch": 3,
                               "num_batches": 10, "time": 5.0, "metrics": {"loss": 2.0, "train_loss": 2.0}}])
    feed(view, 10)
    assert "loss" not in view.session.model.metrics
    assert view.chart_for("loss") is None


def test_a_new_run_reuses_the_chart_widgets(view):
    feed(view, 20, extra=lambda s: {"lr-Adam": 0.1})
    before = {id(c) for c in view.charts()}
    view.session.model.reset()
    view.session.cleared.emit()
    assert not view.sections and not view.charts()
    view.session.model.apply([{"type": "metrics", "step": s, "epoch": 0, "time": 1.0 * s,
                               "metrics": {"val_acc": 0.5, "gpu_util": 30.0}} for s in range(5)])
    view.refresh(force=True)
    after = view.charts()
    assert {id(c) for c in after} == before  # the same plot widgets, given the new run's charts
    assert sorted(c.title.text() for c in after) == ["gpu_util", "val_acc"]
    assert all(len(c.curves) == 1 for c in after) and len(view.curve_data("val_acc")[0]) == 5


def test_big_sections_start_collapsed_and_build_charts_on_expand(view):
    layers = [f"grad_2.0_norm/layer{i}.weight" for i in range(36)]
    feed(view, 20, extra=lambda s: {name: 1.0 + s for name in layers})
    section = view.sections["grad_2.0_norm"]
    assert len(section.specs) == 36 > COLLAPSE_OVER
    assert not section.expanded and not section.widgets
    assert view.sections["train / val"].expanded
    section.set_expanded(True)
    assert len(section.widgets) == 36


def test_search_filters_charts_by_name(view):
    feed(view, 20, extra=lambda s: {"train_acc": 0.5, "lr-Adam": 0.1})
    view.search.setText("acc")
    stage = view.sections["train / val"]
    assert [w.isVisible() for w in stage.widgets.values()] == [False, True]
    assert not view.sections["other"].isVisible()
    view.search.setText("")
    assert view.sections["other"].isVisible()


def test_enlarge_shows_one_chart_and_back_returns_it(view):
    feed(view, 20, extra=lambda s: {"lr-Adam": 0.1})
    chart = view.chart_for("lr-Adam")
    view.enlarge(chart)
    assert view.stack.currentWidget() is view.enlarged_page and chart.parent() is view.enlarged_page
    view.restore_grid()
    assert chart.parent() is view.sections["other"].body and chart.isVisible()


def test_ignore_outliers_scales_to_the_bulk_of_the_points(view):
    feed(view, 1000, spike_at=500)
    view.smoothing.setValue(0)
    view.outliers.setChecked(True)
    low, high = view.chart_for("train_loss").plot.getViewBox().viewRange()[1]
    assert high < 50  # the 101 spike is outside the range
    assert visible_range([np.array([1.0, 1.0])]) == pytest.approx((0.95, 1.05))


def test_log_y_epoch_axis_and_crosshair_readout(view):
    feed(view, 100)
    chart = view.chart_for("train_loss")
    view.log_y.setChecked(True)
    assert chart.plot.getAxis("left").logMode
    view.log_y.setChecked(False)
    view.x_axis.setCurrentIndex(1)  # epoch
    x, _ = view.curve_data("train_loss")
    assert x.max() <= 1.0 and chart.plot.getAxis("bottom").labelText == "epoch"
    view.x_axis.setCurrentIndex(2)  # wall time: seconds since the first point (time 100.0 + step)
    x, _ = view.curve_data("train_loss")
    assert x[-1] == pytest.approx(99.0) and chart.plot.getAxis("bottom").labelText == "wall time (s)"
    view.x_axis.setCurrentIndex(0)
    chart.plot.getViewBox().setRange(xRange=(0, 100), yRange=(0, 1), padding=0)
    scene_point = chart.plot.getViewBox().mapViewToScene(QPointF(10, 0.5))
    chart._on_mouse((scene_point,))
    assert "train_loss = " in view.readout.toolTip() and "@ 10" in view.readout.toolTip()


def test_an_epoch_axis_without_recorded_epochs_says_it_shows_steps(view):
    view.session.model.metrics.add("custom", 5, 1.0)
    view.session.model.metrics.add("custom", 6, 2.0)
    view.refresh(force=True)
    view.x_axis.setCurrentIndex(1)
    assert view.chart_for("custom").plot.getAxis("bottom").labelText == "step (this run recorded no epoch)"


def test_a_long_crosshair_readout_never_widens_the_window(view):
    """Bug 1 (the plot's part): the readout is elided to its width instead of setting a minimum width."""
    names = {f"grad_2.0_norm/very.long.layer.name.{i}.weight": 1.0 for i in range(8)}
    feed(view, 50, extra=lambda s: {"train_acc": 0.5, **{f"train_{k}": v for k, v in names.items()}})
    before = view.minimumSizeHint().width()
    view._set_readout("    ".join(f"metric_{i} = 0.12345 @ 1,000" for i in range(300)))
    assert view.minimumSizeHint().width() == before
    assert view.minimumSizeHint().width() < 1280
    assert len(view.readout.text()) < len(view.readout.toolTip())


def test_axes_show_real_values_without_si_prefix_scaling(view, qtbot):
    """Bug 6: "val_acc (x0.001)" reading 820-920 is gone; the ticks read 0.82-0.92."""
    view.session.model.apply([{"type": "epoch_finished", "stage": "validate", "epoch": e, "step": e * 10,
                               "metrics": {"val_acc": 0.82 + 0.01 * e}} for e in range(10)])
    view.refresh(force=True)
    chart = view.chart_for("val_acc")
    chart.plot.setLabel("left", "val_acc")
    qtbot.waitUntil(lambda: chart.plot.getViewBox().viewRange()[1][1] < 1.0)
    axis = chart.plot.getAxis("left")
    chart.plot_widget.grab()  # lays the axis out
    assert "x0.001" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
    assert axis.tickStrings([0.82, 0.84], 1.0, 0.02) == ["0.82", "0.84"]


def test_export_writes_named_raw_and_smoothed_columns_without_pyqtgraphs_dialog(view, tmp_path, monkeypatch):
    """Bug 8: CSV columns name the raw and the smoothed values; PNG and SVG come from the same export."""
    feed(view, 50)
    chart = view.chart_for("train_loss")
    path = tmp_path / "loss.csv"
    monkeypatch.setattr("studio.qt.metrics_view.ask_save_path", lambda *a: str(path))
    chart.export_requested.emit()
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["step", "train_loss", "train_loss (smoothed 0.6)", "val_loss"]
    assert chart.plot.scene().exportDialog is None
    assert [a.text() for a in chart.plot_widget.scene().contextMenu] == ["Export…"]
    for suffix in (".png", ".svg"):
        written = view.export_chart(chart, str(tmp_path / f"loss{suffix}"))
        assert (tmp_path / f"loss{suffix}").stat().st_size > 500, written


def test_grid_export_writes_every_metric_or_a_picture(view, tmp_path):
    feed(view, 30, extra=lambda s: {"lr-Adam": 0.1})
    csv = view.export_grid(str(tmp_path / "all.csv"))
    header = open(csv).readline().strip().split(",")
    # A learning rate is drawn as set (never smoothed), so the export has no smoothed column for it either.
    assert header == ["step", "train_loss", "train_loss (smoothed 0.6)", "lr-Adam", "val_loss"]
    png = view.export_grid(str(tmp_path / "grid.png"))
    assert (tmp_path / "grid.png").stat().st_size > 1000, png


def test_dark_theme_at_runtime_repaints_existing_charts(view, qapp):
    """Bug 10: axes, legend and background of an open chart follow a theme switch."""
    from studio.qt.plot_style import plot_colors
    from studio.qt.theme import apply_theme

    feed(view, 20)
    chart = view.chart_for("train_loss")
    try:
        apply_theme(qapp, "dark")
        dark = plot_colors(True)
        assert chart.plot_widget.backgroundBrush().color().name() == dark.background
        assert chart.plot.getAxis("left").textPen().color().name() == dark.foreground
    finally:
        apply_theme(qapp, "light")
    assert chart.plot_widget.backgroundBrush().color().name() == plot_colors(False).background


def test_million_points_redraw_quickly(view):
    import time

    store = view.session.model.metrics
    store.add("big_signal", 0, 0.0)
    series = store.series("big_signal")
    x = np.arange(1, 1_000_000, dtype=np.float64)
    series.extend(x, np.sin(x / 1000.0))
    store.version += 1
    view.refresh(force=True)
    chart = view.chart_for("big_signal")
    view.enlarge(chart)  # an enlarged chart redraws on every tick (the grid spreads its charts over ticks)
    start = time.perf_counter()
    drawn = chart.redraws
    for step in range(1_000_000, 1_000_050):
        store.add("big_signal", step, 0.0)
        view.refresh()
        chart.plot_widget.repaint()
    per_frame = (time.perf_counter() - start) / 50
    assert chart.redraws - drawn == 50
    assert per_frame < 0.25, per_frame


def test_many_visible_charts_are_redrawn_a_few_per_tick(view):
    feed(view, 50, extra=lambda s: {f"train_m{i}": float(s + i) for i in range(11)})
    view.sections["train / val"].set_expanded(True)
    view.refresh(force=True)
    on_screen = view._visible_charts()
    assert len(on_screen) > 3
    view.session.model.apply([{"type": "metrics", "step": 100, "epoch": 1, "time": 300.0,
                               "metrics": {f"train_m{i}": 1.0 for i in range(11)}}])
    for chart in on_screen:
        chart.drawn_at = 1.0  # drawn long ago
    before = {chart: chart.redraws for chart in on_screen}
    view.refresh()
    assert sum(chart.redraws - before[chart] for chart in on_screen) == 2
    view.refresh()  # the next tick takes the next ones (a rotating order)
    assert sum(chart.redraws - before[chart] for chart in on_screen) == 4
    for chart in on_screen:
        chart.drawn_at = 0.0  # never drawn: a first draw scans whole buffers, one chart per tick
    view.session.model.apply([{"type": "metrics", "step": 101, "epoch": 1, "time": 301.0,
                               "metrics": {f"train_m{i}": 2.0 for i in range(11)}}])
    before = {chart: chart.redraws for chart in on_screen}
    view.refresh()
    assert sum(chart.redraws - before[chart] for chart in on_screen) == 1


def test_a_long_history_is_smoothed_a_slice_per_turn_and_drawn_as_the_reference_smoothing(view, qtbot, monkeypatch):
    """A chart coming into view with a long unsmoothed history (a reopened run, a new smoothing weight) does not
    smooth it all in one event-loop turn; what it draws is then exactly the smoothing of the raw values."""
    import studio.qt.metrics_view as grid
    from studio.models.metric_store import Series
    from studio.models.smoothing import ema

    monkeypatch.setattr(grid, "_SMOOTH_ON_DRAW", 50)
    monkeypatch.setattr(grid, "_SMOOTH_CHUNK", 100)
    monkeypatch.setattr(grid, "_SMOOTH_SLICE_S", 0.0)  # one chunk per turn
    slices: list[int] = []
    smooth_some = Series.smooth_some
    monkeypatch.setattr(Series, "smooth_some", lambda self, w, budget: slices.append(budget) or
                        smooth_some(self, w, budget))
    store = view.session.model.metrics
    store.add("train_loss", 0, 1.0)
    store.series("train_loss").extend(np.arange(1, 1500.0), np.random.default_rng(5).normal(size=1499))
    store.version += 1
    view.refresh()
    chart = view.chart_for("train_loss")
    curve = chart.curves["train_loss"]
    qtbot.waitUntil(lambda: curve.drawn_version >= 0, timeout=10_000)
    assert len(slices) >= 14 and set(slices) == {100}
    raw = store.series("train_loss").view()[1]
    np.testing.assert_allclose(curve.smooth.getOriginalDataset()[1], ema(raw, 0.6), rtol=1e-9, atol=1e-12)

    slices.clear()
    view.smoothing.setValue(900)
    assert curve.drawn_options.weight == 0.6  # not smoothed on the slider's turn
    qtbot.waitUntil(lambda: curve.drawn_options.weight == 0.9, timeout=10_000)
    assert len(slices) >= 14
    np.testing.assert_allclose(curve.smooth.getOriginalDataset()[1], ema(raw, 0.9), rtol=1e-9, atol=1e-12)


def test_clicking_a_series_key_hides_its_curve_until_clicked_again(view, qtbot):
    """Legend keys work like TensorBoard's and W&B's: a click hides the series (its key dimmed), the state holds
    while the run streams, the y axis fits the shown series and the crosshair readout skips the hidden one."""
    from PySide6.QtCore import Qt

    feed(view, 200, extra=lambda s: {"val_loss": 0.5 + 0.001 * s})
    chart = view.chart_for("train_loss")
    train, val = chart.curves["train_loss"], chart.curves["val_loss"]
    key = chart.keys.buttons["train_loss"]
    assert not key.font().strikeOut() and train.smooth.isVisible()

    qtbot.mouseClick(key, Qt.MouseButton.LeftButton)
    assert view.hidden_series == {"train_loss"} and chart.keys.is_dimmed("train_loss") and key.font().strikeOut()
    assert not train.smooth.isVisible() and not train.raw.isVisible() and val.smooth.isVisible()
    assert chart.plot.getViewBox().viewRange()[1][1] < 0.9  # fitted to val_loss (0.5-0.7), not train_loss's 1.0
    view._on_hover(chart, 150.0)
    assert "val_loss" in view.readout.toolTip() and "train_loss" not in view.readout.toolTip()

    view.session.model.apply([{"type": "metrics", "step": 300 + s, "epoch": 2, "time": 400.0 + s,
                               "metrics": {"train_loss": 0.01, "val_loss": 0.4}} for s in range(20)])
    view.refresh(force=True)
    assert not train.smooth.isVisible() and not train.raw.isVisible() and chart.keys.is_dimmed("train_loss")

    qtbot.mouseClick(key, Qt.MouseButton.LeftButton)
    assert view.hidden_series == set() and not key.font().strikeOut()
    assert train.smooth.isVisible() and train.raw.isVisible()
    assert chart.plot.getViewBox().viewRange()[1][1] >= 0.9


def test_an_exported_chart_picture_names_its_lines_and_leaves_the_screen_as_it_was(view, tmp_path):
    """On screen the title and the series' keys are in the chart's header, outside the exported plot: a PNG of
    "loss" showed a blue and an orange line without saying which was val_loss."""
    import pyqtgraph as pg

    feed(view, 50)
    chart = view.chart_for("train_loss")
    svg = (tmp_path / "loss.svg")
    view.export_chart(chart, str(svg))
    text = svg.read_text()
    assert "train_loss" in text and "val_loss" in text and chart.chart.title in text
    assert not [i for i in chart.plot.getViewBox().childItems() if isinstance(i, pg.LegendItem)]
    assert not chart.plot.titleLabel.isVisible()
