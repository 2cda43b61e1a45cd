"""The Metrics tab: one chart per metric in a grid, the way TensorBoard and W&B users read them.

Charts are grouped into collapsible sections by name prefix (see :mod:`studio.models.metric_groups`); a train/val
pair of one quantity shares a chart; each chart has its own y axis and title. Smoothing, log-y, "ignore outliers",
the x axis (step / epoch / wall time) and the crosshair apply to the whole grid. Sections with more than
``COLLAPSE_OVER`` charts start collapsed, and only charts on screen are redrawn (on the session's redraw clock),
so a run with 100 charts of 1,000,000 points each stays smooth: charts coming into view are drawn one per
event-loop turn, and a series with a long unsmoothed history (a reopened run, a new smoothing weight) is smoothed
a few milliseconds at a time before its chart draws, never a whole million points in one turn.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.models.metric_groups import Chart, group_charts, sections_of
from studio.qt.dashboards.common import ask_save_path
from studio.qt.metrics.chart import ChartOptions, MetricChart, visible_range
from studio.qt.metrics.empty_hint import EMPTY_IDLE, EMPTY_RUNNING, empty_hint
from studio.qt.metrics.picture import report_caption, titled_and_keyed, write_chart, write_metrics_csv
from studio.qt.metrics.section import ChartSection
from studio.qt.plot_style import configure_pyqtgraph
from studio.services.session import RunSession

__all__ = ["COLLAPSE_OVER", "MetricsView", "empty_hint", "report_caption", "visible_range"]

COLLAPSE_OVER = 12
# Paint work per redraw-clock tick: each chart repaint costs ~8 ms (axes, two curves) on one core, a first draw of a
# 1,000,000-point chart a few ms more (peak decimation of the whole buffer). Measured on 2 busy cores: 3 charts a
# tick every 0.5 s gave a p99 lateness of 74 ms, 2 charts every 1 s 40 ms (100 charts of 1M points).
_CHARTS_PER_TICK = 2
_MIN_REDRAW_INTERVAL_S = 1.0
# Smoothing a whole 1,000,000-point series costs 30 ms on this project's 2-core machine, over 100 ms when it is
# busy: a chart whose series lag more than _SMOOTH_ON_DRAW points is not drawn until the smoother has caught them
# up, _SMOOTH_CHUNK points at a time for at most _SMOOTH_SLICE_S per event-loop turn (every turn for charts on
# screen, every _SMOOTH_IDLE_INTERVAL_MS for the others, so a long history is smoothed before the user scrolls to it).
_SMOOTH_ON_DRAW = 20_000
_SMOOTH_CHUNK = 8_192
_SMOOTH_SLICE_S = 0.004
_SMOOTH_IDLE_INTERVAL_MS = 25
_MIN_CHART_WIDTH = 380
class MetricsView(QWidget):
    """The metric grid of the session's run.

    Args:
        session: the window's run session (reads ``session.model.metrics``).
    """

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = session.model.metrics
        self.sections: dict[str, ChartSection] = {}
        self.redraws = 0
        self._store_version = -1
        self._names_seen = 0
        self._enlarged: MetricChart | None = None
        self._hover_x = math.nan
        self._rotation = 0
        self._spare: list[MetricChart] = []
        # Series hidden by a click on their key: kept for the grid while runs stream and charts are rebuilt.
        self.hidden_series: set[str] = set()
        self._spare_holder = QWidget(self)  # hidden parent of the charts kept for reuse
        self._spare_holder.setVisible(False)
        configure_pyqtgraph()

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search")  # "Search metrics" showed as "Searc..." at 1280x720
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Show only charts whose name contains this text")
        self.search.textChanged.connect(self._on_search)
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 999)
        self.smoothing.setValue(600)
        self.smoothing.setMinimumWidth(60)
        self.smoothing.setToolTip("Debiased exponential moving average weight (0 = raw), as in TensorBoard; the raw "
                                  "line stays faint underneath")
        self.smoothing_label = QLabel("0.600")
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.log_y = QCheckBox("Log y")
        self.log_y.setToolTip("Logarithmic y axes (values <= 0 are not drawn)")
        self.log_y.toggled.connect(lambda _: self.refresh(force=True))
        self.outliers = QCheckBox("Ignore outliers")
        self.outliers.setToolTip("Scale each chart's y axis to the 5th-95th percentile of its points, so spikes do "
                                 "not flatten the curves")
        self.outliers.toggled.connect(lambda _: self.refresh(force=True))
        self.x_axis = QComboBox()
        self.x_axis.addItem("Step", "step")
        self.x_axis.addItem("Epoch", "epoch")
        self.x_axis.addItem("Wall time", "time")
        self.x_axis.setToolTip("What the charts' x axis shows")
        self.x_axis.currentIndexChanged.connect(lambda _: self.refresh(force=True))
        export = QPushButton("Export…")
        export.setToolTip("Save the grid as a PNG picture, or every metric's raw and smoothed values as one CSV")
        export.clicked.connect(lambda: self.export_grid())
        fit = QPushButton("Fit")
        fit.setToolTip("Show all points again in every chart (auto range)")
        fit.clicked.connect(self._on_fit)
        self.back = QPushButton("Back to grid")
        self.back.setToolTip("Show every chart again (Esc)")
        self.back.setShortcut("Esc")
        self.back.clicked.connect(self.restore_grid)
        self.back.setVisible(False)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.search, 2)
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing, 1)
        controls.addWidget(self.smoothing_label)
        controls.addWidget(self.log_y)
        controls.addWidget(self.outliers)
        controls.addWidget(QLabel("x"))
        controls.addWidget(self.x_axis)
        controls.addWidget(fit)
        controls.addWidget(export)
        controls.addWidget(self.back)

        self.container = QWidget()
        self.container_layout = QVBoxLayout(self.container)
        self.container_layout.setContentsMargins(0, 0, 0, 0)
        self.container_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.container)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.verticalScrollBar().valueChanged.connect(lambda _: self._schedule_redraw())
        self.hint = QLabel(EMPTY_IDLE)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.enlarged_page = QWidget()
        self.enlarged_layout = QVBoxLayout(self.enlarged_page)
        self.enlarged_layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.enlarged_page)

        self.readout = QLabel(" ")
        self.readout.setObjectName("crosshairReadout")
        # The readout is elided to the width it gets: a long line of values must never widen the window.
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setMinimumWidth(0)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._readout_full = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.readout)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(lambda: self.refresh(force=False, redraw_all_visible=True))
        self._pass_started = 0.0  # when the pending redraw of every visible chart was asked for
        self._smooth_timer = QTimer(self)
        self._smooth_timer.setSingleShot(True)
        self._smooth_timer.timeout.connect(self._smooth_in_slices)
        session.tick.connect(self.refresh)
        session.cleared.connect(self._on_cleared)

    # --- public -----------------------------------------------------------------------------------------------
    @property
    def weight(self) -> float:
        """The smoothing weight in [0, 0.999]."""
        return self.smoothing.value() / 1000.0

    def options(self) -> ChartOptions:
        """The grid-wide drawing options."""
        return ChartOptions(weight=self.weight, log_y=self.log_y.isChecked(), outliers=self.outliers.isChecked(),
                            x_mode=str(self.x_axis.currentData()))

    def charts(self) -> list[MetricChart]:
        """Every chart widget built so far (collapsed sections build theirs when first expanded)."""
        return [w for section in self.sections.values() for w in section.widgets.values()]

    def chart_for(self, name: str) -> MetricChart | None:
        """The chart drawing series ``name`` (built if its section is collapsed), or None."""
        for section in self.sections.values():
            for key, spec in section.specs.items():
                if name in spec.series:
                    if key not in section.widgets:
                        section.build()
                    return section.widgets[key]
        return None

    def report_images(self, render: Callable[[pg.PlotItem], bytes], limit: int = 8) -> list[tuple[str, bytes]]:
        """(caption, picture) of the first ``limit`` charts of the expanded sections, redrawn now (run reports).

        Each picture is ``render(plot)`` taken with the chart's title and key on it, as an exported chart is.
        """
        self.refresh(force=True)
        out = []
        for section in self.sections.values():
            if not section.expanded:
                continue
            section.relayout()
            for widget in section.widgets.values():
                if len(out) < limit:
                    widget.redraw(self.options(), force=True)
                    with titled_and_keyed(widget):
                        picture = render(widget.plot)
                    out.append((report_caption(widget.chart.title, widget.chart.series), picture))
        return out

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) drawn for ``name``'s smoothed line (drawn now if its chart is off screen)."""
        chart = self.chart_for(name)
        if chart is None:
            raise KeyError(name)
        if chart.curves[name].drawn_version < 0 or chart.curves[name].drawn_options != self.options():
            chart.redraw(self.options(), force=True)  # off screen, or waiting for the smoother: drawn now
        x, y = chart.curves[name].smooth.getOriginalDataset()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))

    def refresh(self, force: bool = False, redraw_all_visible: bool = False) -> None:
        """Regroup new metrics and redraw the visible charts that changed (called on the session clock).

        Args:
            force: redraw every visible chart now, smoothing whole series where needed (toggles, reports).
            redraw_all_visible: redraw each visible chart that changed, one per event-loop turn (after a scroll,
                a resize or a new smoothing weight); the grid's timer calls it again until none is left.
        """
        if not force and not self.isVisible():
            return
        if self.store.version != self._store_version or force:
            self._store_version = self.store.version
            names = self.store.names()
            if len(names) != self._names_seen or force:
                self._names_seen = len(names)
                self._regroup(group_charts(names))
        self._update_empty()
        options = self.options()
        charts = self._visible_charts()
        if not force and not redraw_all_visible and len(charts) > _CHARTS_PER_TICK:
            # A dozen charts on screen each redrawn and repainted on every tick blocked the event loop past 50 ms
            # on 2 cores; a rotating few per tick keeps every chart live (each updates every few ticks).
            start = self._rotation % len(charts)
            charts = charts[start:] + charts[:start]
        changed = 0
        now = time.monotonic()
        throttle = not force and not redraw_all_visible and self._enlarged is None
        for index, chart in enumerate(charts):
            if throttle and now - chart.drawn_at < _MIN_REDRAW_INTERVAL_S and chart.drawn_at > 0:
                continue  # a streaming chart updates once a second (TensorBoard: every 30 s)
            if redraw_all_visible and chart.drawn_at >= self._pass_started:
                continue  # drawn since this pass was asked for (streaming data must not keep the pass going)
            if not force and chart.smoothing_lag(options.weight) > _SMOOTH_ON_DRAW:
                continue  # drawn once the smoother has caught its series up
            cold = chart.drawn_at == 0.0  # a first draw decimates whole buffers: one per tick
            if chart.redraw(options, force=force):
                chart.drawn_at = now
                changed += _CHARTS_PER_TICK if cold else 1
                if redraw_all_visible:
                    self._redraw_timer.start()  # one chart per event-loop turn: the next one on the next turn
                    break
            if throttle and changed >= _CHARTS_PER_TICK:
                self._rotation += index + 1
                break
        if changed:
            self.redraws += 1
        if not force and not self._smooth_timer.isActive():
            self._smooth_timer.start(0)

    def toggle_series(self, name: str) -> None:
        """Hide series ``name`` in its chart, or show it again (what a click on its key does)."""
        self.hidden_series.symmetric_difference_update({name})
        chart = self.chart_for(name)
        if chart is not None:
            chart.apply_hidden()

    def enlarge(self, chart: MetricChart) -> None:
        """Show ``chart`` alone, filling the grid's area ("Back to grid" or Esc returns)."""
        self.restore_grid()
        self._enlarged = chart
        chart.setMinimumHeight(0)
        chart.setMaximumHeight(16_777_215)
        self.enlarged_layout.addWidget(chart)
        chart.setVisible(True)
        self.stack.setCurrentWidget(self.enlarged_page)
        self.back.setVisible(True)
        chart.redraw(self.options(), force=True)

    def restore_grid(self) -> None:
        """Leave the enlarged chart and show the grid again."""
        chart, self._enlarged = self._enlarged, None
        if chart is not None:
            self.enlarged_layout.removeWidget(chart)
            section = self.sections.get(chart.chart.section)
            if section is not None:
                section.take_back(chart)
        self.back.setVisible(False)
        self._update_empty()
        self._schedule_redraw()

    def export_chart(self, chart: MetricChart, path: str | None = None) -> str:
        """Write ``chart`` as PNG/SVG, or its raw and smoothed values as CSV (by the path's suffix)."""
        if path is None:
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in chart.chart.title)
            path = ask_save_path(self, "Export chart", f"{safe}.png",
                                 "PNG image (*.png);;SVG (*.svg);;CSV data (*.csv)")
            if not path:
                return ""
        return write_chart(chart, path)

    def export_grid(self, path: str | None = None) -> str:
        """Write the grid as it looks (.png) or every metric's raw and smoothed values in named columns (.csv)."""
        if path is None:
            path = ask_save_path(self, "Export metrics", "metrics.csv", "CSV data (*.csv);;PNG image (*.png)")
            if not path:
                return ""
        if Path(path).suffix.lower() == ".png":
            page = self.stack.currentWidget()
            target = self.container if page is self.scroll else page
            target.grab().save(path)
            return path
        return write_metrics_csv(self.store, self.weight, path)

    # --- grouping ---------------------------------------------------------------------------------------------
    def _regroup(self, charts: list[Chart]) -> None:
        by_section: dict[str, list[Chart]] = {}
        for chart in charts:
            by_section.setdefault(chart.section, []).append(chart)
        for name in sections_of(charts):
            section = self.sections.get(name)
            if section is None:
                # Sections past the threshold start collapsed: 36 grad-norm charts would bury the losses.
                section = ChartSection(name, self.store, expanded=len(by_section[name]) <= COLLAPSE_OVER,
                                       factory=self._make_chart)
                section.toggled.connect(lambda _: self._schedule_redraw())
                section.set_columns(self._columns())
                self.sections[name] = section
                self.container_layout.insertWidget(self.container_layout.count() - 1, section)
            section.set_charts(by_section[name])
            if self.search.text():
                section.set_filter(self.search.text())

    def _make_chart(self, spec: Chart, parent: QWidget) -> MetricChart:
        """A chart widget for ``spec``: one kept from an earlier run when there is one, else a new one."""
        if self._spare:
            chart = self._spare.pop()
            chart.setParent(parent)
            chart.reuse(spec)
        else:
            chart = MetricChart(spec, self.store, parent, hidden=self.hidden_series)
            self._connect_chart(chart)
        self._schedule_redraw()  # drawn when on screen, not when built (a 36-chart section opens at once)
        return chart

    def _connect_chart(self, chart: MetricChart) -> None:
        chart.hovered.connect(lambda x, c=chart: self._on_hover(c, x))
        chart.enlarge_requested.connect(lambda c=chart: self.enlarge(c) if self._enlarged is not c
                                        else self.restore_grid())
        chart.export_requested.connect(lambda c=chart: self.export_chart(c))
        chart.series_toggled.connect(self.toggle_series)

    def _columns(self) -> int:
        width = self.scroll.viewport().width() if self.scroll.isVisible() else self.width()
        return max(1, min(4, width // _MIN_CHART_WIDTH))

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)  # type: ignore[arg-type]
        columns = self._columns()
        for section in self.sections.values():
            section.set_columns(columns)
        self._set_readout(self._readout_full)
        self._schedule_redraw()

    def _visible_charts(self) -> list[MetricChart]:
        if self._enlarged is not None:
            return [self._enlarged]
        if self.stack.currentWidget() is not self.scroll:
            return []
        out = []
        for section in self.sections.values():
            if not section.expanded or not section.isVisible():
                continue
            for chart in section.widgets.values():
                # Charts scrolled out of view are redrawn when they come back (the scroll schedules a redraw).
                if chart.isVisible() and not chart.visibleRegion().isEmpty():
                    out.append(chart)
        return out

    def _schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._pass_started = time.monotonic()
            self._redraw_timer.start()

    def _smooth_in_slices(self) -> None:
        """Smooth long unsmoothed histories of the built charts' series, on-screen charts first, for a few ms."""
        weight = self.weight
        if weight <= 0 or not self.isVisible():
            return
        deadline = time.perf_counter() + _SMOOTH_SLICE_S
        visible = self._visible_charts()
        shown = set(map(id, visible))
        # Then the charts of the open sections, off screen: ready before the user scrolls to them.
        others = [c for section in self.sections.values() if section.expanded
                  for c in section.widgets.values() if id(c) not in shown]
        for chart in visible + others:
            behind = False
            for name in chart.curves:
                series = self.store.get(name)
                if series is None or series.kind != "step" or series.smoothing_lag(weight) <= _SMOOTH_ON_DRAW:
                    continue
                behind = True
                while not series.smooth_some(weight, _SMOOTH_CHUNK):
                    if time.perf_counter() >= deadline:
                        self._smooth_timer.start(0 if id(chart) in shown else _SMOOTH_IDLE_INTERVAL_MS)
                        return
            if behind and id(chart) in shown:
                self._schedule_redraw()  # caught up: drawn on one of the next turns

    def _update_empty(self) -> None:
        if self._enlarged is not None:
            return
        empty = not self.sections
        if empty:
            self.hint.setText(EMPTY_RUNNING if self.session.running else empty_hint(self.session.model))
        target = self.hint if empty else self.scroll
        if self.stack.currentWidget() is not target:
            self.stack.setCurrentWidget(target)

    # --- toolbar ----------------------------------------------------------------------------------------------
    def _on_search(self, text: str) -> None:
        for section in self.sections.values():
            section.set_filter(text)
        self._schedule_redraw()

    def _on_smoothing(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 1000:.3f}")
        # Not a forced redraw: dragging the slider over charts of a million points would smooth them all in one
        # turn each time; the smoother catches them up a slice at a time and each chart redraws when done.
        self._schedule_redraw()
        self._pass_started = time.monotonic()  # charts drawn with the previous weight in a running pass: again
        self._smooth_timer.start(0)

    def _on_fit(self) -> None:
        for chart in self.charts():
            chart.fit()

    def _on_cleared(self) -> None:
        self.restore_grid()
        for section in self.sections.values():
            for chart in section.widgets.values():
                # Kept for the next run's charts: plot widgets are reused, never destroyed (PySide6 leaks them).
                chart.setParent(self._spare_holder)
                chart.setVisible(False)
                self._spare.append(chart)
            section.widgets.clear()
            self.container_layout.removeWidget(section)
            section.deleteLater()
        self.sections.clear()
        self._store_version = -1
        self._names_seen = 0
        self._set_readout("")
        self.refresh(force=True)

    # --- crosshair --------------------------------------------------------------------------------------------
    def _on_hover(self, source: MetricChart, x: float) -> None:
        self._hover_x = x
        for chart in self._visible_charts():
            chart.set_cursor(x)
        if math.isnan(x):
            return
        unit = source.x_mode
        where = f"{unit} {x:,.0f}" if unit == "step" else f"{unit} {x:,.2f}"
        parts = [where] + [f"{name} = {value:.5g} @ {px:,.6g}" for name, value, px in source.values_at(x)]
        self._set_readout("    ".join(parts))

    def _set_readout(self, text: str) -> None:
        self._readout_full = text
        metrics = self.readout.fontMetrics()
        width = max(40, self.readout.width() - 8)
        self.readout.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, width) or " ")
        self.readout.setToolTip(text)
