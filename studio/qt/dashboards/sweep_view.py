"""The Sweep tab: the trials of a hyper-parameter sweep as they race, and the best so far.

Reads :class:`~studio.models.sweep_state.SweepSnapshot` objects (from a running sweep's controller, or a sweep folder
opened later) and draws: a summary line, the trials table (state, parameters, current/best value, duration; the best
trial highlighted, pruned and stopped trials named), the best-so-far curve over trial numbers with every completed
trial as a dot, the parallel-coordinates plot of parameters against the metric, and Optuna's parameter importance.

The view only emits signals: ``trial_opened(run_dir)`` on a double-click, ``best_applied(params)`` for "Apply best",
``stop_requested()``. The window decides what they do.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSplitter, QTabWidget, QVBoxLayout, QWidget

from studio.models.dashboards.tables import Table
from studio.models.sweep_state import SweepSnapshot, best_so_far
from studio.qt.dashboards.common import TableModel, button_row, make_table_view, table_export_button
from studio.qt.dashboards.parallel_coords import ParallelCoordinatesView
from studio.qt.plot_style import color_for, plot_colors, style_plot

__all__ = ["SweepView", "trials_table"]

# A chart redraw (parallel coordinates of 50 trials: ~50 ms) happens at most this often while trials stream; the
# summary and the table follow every read of the study.
_MIN_CHART_INTERVAL_S = 2.0

_EMPTY = ("No sweep yet. Click Sweep in the toolbar, tick the model arguments and Trainer flags to search with their "
          "ranges, and the trials appear here as they run. File > Open sweep folder shows an earlier sweep.")


def trials_table(snap: SweepSnapshot) -> Table:
    """One row per trial: number, state, each parameter, value (final or latest), validations, duration."""
    names = snap.parameter_names
    metric = snap.metric or "value"
    headers = ["trial", "state", *names, metric, "validations", "duration (s)"]
    rows = []
    for trial in snap.trials:
        shown = trial.current
        rows.append([trial.number, trial.state + (f": {trial.error[:80]}" if trial.error else ""),
                     *[trial.params.get(n) for n in names], math.nan if shown is None else shown,
                     len(trial.values), math.nan if trial.duration_s is None else round(trial.duration_s, 1)])
    return Table(headers, rows, title="Sweep trials")


def _summary(snap: SweepSnapshot) -> str:
    if not snap.trials:
        return _EMPTY
    counts: dict[str, int] = {}
    for trial in snap.trials:
        counts[trial.state] = counts.get(trial.state, 0) + 1
    parts = ", ".join(f"{n} {state}" for state, n in counts.items())
    best = snap.best
    goal = f"{snap.direction} {snap.metric}" if snap.metric else snap.direction
    if best is None:
        return f"{len(snap.trials)} trials ({parts}); {goal}; no trial has completed yet"
    params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best.params.items())
    return f"{len(snap.trials)} trials ({parts}); {goal}: best #{best.number} = {best.value:.6g} ({params})"


class SweepView(QWidget):
    """The Sweep tab (see the module docstring)."""

    trial_opened = Signal(str)
    best_applied = Signal(dict)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.snapshot: SweepSnapshot | None = None
        self._headers: list[str] = []
        self.summary = QLabel(_EMPTY)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.apply_best = QPushButton("Apply best")
        self.apply_best.setToolTip("Put the best trial's values into the Model and Trainer forms")
        self.apply_best.setEnabled(False)
        self.apply_best.clicked.connect(self._on_apply_best)
        self.stop = QPushButton("Stop sweep")
        self.stop.setToolTip("Stop the running trials at their next batch (each saves a checkpoint); the study "
                             "stays resumable. A second click kills the sweep.")
        self.stop.setEnabled(False)
        self.stop.clicked.connect(self.stop_requested)
        self.model = TableModel(self)
        self.table = make_table_view(self.model)
        self.table.setToolTip("Double-click a trial to open its run in the other views")
        self.table.doubleClicked.connect(self._on_double_click)
        self.best_plot = style_plot(pg.PlotWidget())
        self.best_plot.setLabel("bottom", "trial")
        self.best_plot.showGrid(x=False, y=True, alpha=0.2)
        self.parallel = ParallelCoordinatesView()
        self.importance = style_plot(pg.PlotWidget())
        self.importance.setLabel("bottom", "importance (share of the metric's variance)")
        self.charts = QTabWidget()
        self.charts.addTab(self.best_plot, "Best so far")
        self.charts.addTab(self.parallel, "Parallel coordinates")
        self.charts.addTab(self.importance, "Parameter importance")
        self._drawn: dict[int, Any] = {}  # chart tab index -> the data it was last drawn from
        self._drawn_at = -math.inf
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.timeout.connect(self._refresh_chart)
        self.charts.currentChanged.connect(lambda _index: self._refresh_chart(throttle=False))  # the user asked
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.charts)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addLayout(button_row(self.apply_best, self.stop, table_export_button(self, self._table, "sweep")))
        layout.addWidget(splitter, 1)

    def set_running(self, running: bool) -> None:
        """Enable Stop while the sweep process runs."""
        self.stop.setEnabled(running)

    def show_snapshot(self, snap: SweepSnapshot) -> None:
        """Show ``snap`` (the latest read of the study): the summary and table now, the chart on screen if its data
        changed (the others when they are shown)."""
        self.snapshot = snap
        self.summary.setText(_summary(snap))
        best = snap.best
        table = trials_table(snap)
        best_row = {i for i, t in enumerate(snap.trials) if best is not None and t.number == best.number}
        self.model.set_table(table, best_row)
        if table.headers != self._headers:  # sizing reads every cell: only when the columns change
            self._headers = list(table.headers)
            self.table.resizeColumnsToContents()  # full parameter names in the headers
        self.apply_best.setEnabled(best is not None)
        self._refresh_chart()

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        self._refresh_chart(throttle=False)

    def _refresh_chart(self, throttle: bool = True) -> None:
        """Redraw the chart tab on screen when what it shows changed since it was last drawn.

        While trials run, a snapshot arrives every second; redrawing all three charts each time would cost the GUI
        a parallel-coordinates rebuild per second even when nobody looks at it.
        """
        snap = self.snapshot
        if snap is None or not self.isVisible():
            return
        index = self.charts.currentIndex()
        if index == 0:
            key: Any = tuple((t.number, t.value) for t in snap.trials if t.state == "complete")
            draw = self._draw_best
        elif index == 1:
            key = tuple((t.number, t.state, t.current) for t in snap.trials)
            draw = self._draw_parallel
        else:
            key = tuple(sorted(snap.importances.items()))
            draw = self._draw_importance
        if self._drawn.get(index) == key:
            return
        wait = self._drawn_at + _MIN_CHART_INTERVAL_S - time.monotonic()
        if throttle and wait > 0:  # drawn a moment ago: draw the newest data once the interval is over
            if not self._redraw.isActive():
                self._redraw.start(int(wait * 1000) + 1)
            return
        self._drawn[index] = key
        self._drawn_at = time.monotonic()
        draw(snap)

    def _table(self) -> Table:
        return trials_table(self.snapshot) if self.snapshot else Table([])

    def _draw_best(self, snap: SweepSnapshot) -> None:
        plot = self.best_plot.getPlotItem()
        plot.clear()
        plot.setLabel("left", snap.metric or "value")
        done = [(t.number, t.value) for t in snap.trials if t.state == "complete" and t.value is not None
                and math.isfinite(t.value)]
        if done:
            xs, ys = np.array(done, dtype=np.float64).T
            plot.addItem(pg.ScatterPlotItem(xs, ys, size=7, brush=pg.mkBrush(plot_colors().muted), pen=None,
                                            name="trial value"))
        curve = best_so_far(snap.trials, snap.direction)
        if curve:
            # A staircase: the best stays flat until a trial beats it, then jumps at that trial.
            xs, ys = np.array(curve, dtype=np.float64).T
            end = max(max(t.number for t in snap.trials), xs[-1]) + 0.5
            # Each best holds from its trial to the next one's: (x0, y0), (x1, y0), (x1, y1), (x2, y1), ...
            step_x = np.repeat(np.append(xs, end), 2)[1:-1]
            step_y = np.repeat(ys, 2)
            plot.addItem(pg.PlotCurveItem(step_x, step_y, pen=pg.mkPen(color_for(0), width=2), name="best so far"))

    def _draw_parallel(self, snap: SweepSnapshot) -> None:
        trials = [t for t in snap.trials if t.params]
        names = snap.parameter_names
        self.parallel.set_runs([f"#{t.number}" for t in trials],
                               [(n, [t.params.get(n) for t in trials]) for n in names],
                               (snap.metric or "value", [t.current for t in trials]),
                               log_axes=snap.log_parameters)

    def _draw_importance(self, snap: SweepSnapshot) -> None:
        plot = self.importance.getPlotItem()
        plot.clear()
        items = sorted(snap.importances.items(), key=lambda kv: kv[1])
        if not items:
            text = pg.TextItem("Parameter importance appears once three trials have completed", anchor=(0.5, 0.5),
                               color=plot_colors().muted)
            plot.addItem(text)
            plot.hideAxis("left")
            plot.setRange(xRange=(0, 1), yRange=(0, 1))
            return
        ys = np.arange(len(items), dtype=np.float64)
        widths = np.array([v for _, v in items], dtype=np.float64)
        plot.addItem(pg.BarGraphItem(x0=0, y=ys, height=0.6, width=widths, brush=color_for(0)))
        plot.showAxis("left")
        plot.getAxis("left").setTicks([[(y, name) for y, (name, _) in zip(ys, items)]])
        for y, (_, value) in zip(ys, items):  # the share, just past the end of its bar
            label = pg.TextItem(f"{value:.2f}", anchor=(0, 0.5), color=plot_colors().foreground)
            label.setPos(value + 0.01, y)
            plot.addItem(label)
        plot.setRange(xRange=(0, 1.1), yRange=(-0.6, len(items) - 0.4))

    def _on_double_click(self, index: Any) -> None:
        if self.snapshot is None:
            return
        number = self.model.table.rows[index.row()][0]
        trial = next((t for t in self.snapshot.trials if t.number == number), None)
        if trial is not None and trial.run_dir:
            self.trial_opened.emit(trial.run_dir)

    def _on_apply_best(self) -> None:
        best = self.snapshot.best if self.snapshot else None
        if best is not None:
            self.best_applied.emit(dict(best.params))
