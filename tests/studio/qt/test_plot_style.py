"""Readable tick labels and the runtime theme on every studio plot."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from studio.qt.plot_style import ReadableAxis, format_tick, plot_colors


@pytest.mark.parametrize(("value", "spacing", "text"), [
    (0.85, 0.05, "0.85"), (12000.0, 2000.0, "12,000"), (3e-5, 1e-5, "3e-5"), (2.5e7, 5e6, "2.5e7"),
    (0.0, 0.1, "0"), (1.0, 0.25, "1.0"),
])
def test_format_tick_reads_as_the_real_value(value, spacing, text):
    assert format_tick(value, spacing) == text


def test_log_axis_labels_are_values_and_keep_room_between_decades(qtbot):
    axis = ReadableAxis("bottom")
    axis.setLogMode(True)
    assert axis.logTickStrings([math.log10(256), -3.0, math.log10(2e-5)], 1.0, 1.0) == ["256", "0.001", "2e-5"]
    ticks = axis.logTickValues(0.0, 3.0, 400, [])  # batch sizes 1..1000: 2x and 5x between decades only
    minor = [round(10 ** v) for v in ticks[-1][1]]
    assert minor == [2, 5, 20, 50, 200, 500]


def test_series_plot_has_readable_axes_and_follows_the_theme(qtbot, qapp):
    from studio.models.metric_store import MetricStore
    from studio.qt.dashboards.series_plot import SeriesPlot
    from studio.qt.theme import apply_theme

    store = MetricStore()
    for step in range(10):
        store.add("lr", step, 1e-5 * (step + 1))
    plot = SeriesPlot(store.get, y_label="learning rate")
    qtbot.addWidget(plot)
    plot.set_series(["lr"])
    plot.refresh(force=True)
    label = plot.plot_item.legend.items[0][1]
    axis = plot.plot_item.getAxis("left")
    assert isinstance(axis, ReadableAxis) and axis.labelText == "learning rate"
    try:
        apply_theme(qapp, "dark")
        assert plot.backgroundBrush().color().name() == plot_colors(True).background
        assert label.opts["color"] == plot_colors(True).foreground  # existing legend labels re-rendered
    finally:
        apply_theme(qapp, "light")


def test_tuner_and_system_plots_show_real_values(qtbot):
    """Bug 6 on the LR finder (live log axis), batch-size and system plots: no SI-prefix scaling anywhere."""
    from studio.qt.dashboards.system_view import SystemView
    from studio.qt.dashboards.tuner_views import BatchFinderView, LrFinderView
    from studio.services.session import RunSession

    session = RunSession()
    try:
        for view_type in (LrFinderView, BatchFinderView, SystemView):
            view = view_type(session)
            qtbot.addWidget(view)
            for side in ("left", "bottom"):
                axis = view.plot.getAxis(side)
                assert isinstance(axis, ReadableAxis) and not axis.autoSIPrefix, (view_type, side)
        lr_axis = LrFinderView(session).plot.getAxis("bottom")
        assert lr_axis.logMode and lr_axis.labelText == "learning rate (log)"
        assert lr_axis.tickStrings([-4.0, -3.0], 1.0, 1.0) == ["1e-4", "0.001"]
    finally:
        session.shutdown()


def test_the_windows_theme_switch_repaints_every_plot(make_window, qapp):
    """Bug 10: after View > Dark theme at runtime, no plot in any tab keeps a white background or dark axes."""
    import pyqtgraph as pg

    window = make_window()
    window.ensure_views()
    window.session.open_run(Path(__file__).resolve().parents[1] / "fixtures" / "dashboard_fit")
    window.metrics_view.refresh(force=True)
    dark = plot_colors(True)
    try:
        window.switch_theme("dark")
        plots = window.findChildren(pg.PlotWidget)
        assert len(plots) > 5
        light_left = [type(p.parent()).__name__ for p in plots
                      if p.backgroundBrush().color().name() != dark.background
                      or p.getPlotItem().getAxis("left").textPen().color().name() != dark.foreground]
        assert not light_left, f"plots still in the light theme: {light_left}"
    finally:
        window.switch_theme("light")


def _tick_values(axis: ReadableAxis) -> list[float]:
    low, high = axis.range
    return [v for _spacing, values in axis.tickValues(low, high, axis.width() or 400) for v in values]


def test_a_step_axis_ticks_whole_steps_even_around_one_point(qtbot, qapp):
    from studio.models.metric_store import MetricStore
    from studio.qt.dashboards.series_plot import SeriesPlot

    store = MetricStore()
    store.add("loss", 5, 0.7)  # one point: pyqtgraph pads the view to 4.5 .. 5.5 and would tick 4.6, 4.8, ...
    plot = SeriesPlot(store.get, y_label="loss")
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.set_series(["loss"])
    plot.refresh(force=True)
    plot.plot_item.getViewBox().setXRange(4.5, 5.5, padding=0)
    axis = plot.plot_item.getAxis("bottom")
    assert _tick_values(axis) == [5.0]
    plot.plot_item.getViewBox().setXRange(0, 3.5, padding=0)  # a short run: 0, 1, 2, 3 -- never 0.5, 1.5, ...
    ticks = _tick_values(axis)
    assert ticks and all(v == round(v) for v in ticks)
    value_axis = plot.plot_item.getAxis("left")  # the value axis keeps its fractional ticks
    assert any(v != round(v) for v in value_axis.tickValues(0.1, 0.9, 300)[0][1])


def test_an_epoch_or_trial_axis_counts_and_a_time_axis_does_not(qtbot):
    axis = ReadableAxis("bottom")
    for label, whole in (("epoch", True), ("trial", True), ("step (this run recorded no wall time)", True),
                         ("wall time (s)", False), ("learning rate (log)", False)):
        axis.setLabel(label)
        assert axis.counts_whole_numbers() is whole, label
