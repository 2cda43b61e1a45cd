"""The tuners: LR finder (live loss-vs-lr curve, suggestion, stop reason, Apply) and the batch-size finder (trials
table and plot, Apply).

Apply only emits the found value (``lr_applied`` / ``batch_size_applied``): the main window connects those signals
and writes the value into its forms, so a view never reaches into another widget.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from studio.models.dashboards.tables import Table
from studio.models.dashboards.tuning import BatchTrials, LrCurve, batch_trials, lr_curve, suggestion_caution
from studio.qt.dashboards.common import (
    TableModel,
    button_row,
    fmt_bytes,
    make_table_view,
    plot_export_button,
    table_export_button,
)
from studio.qt.plot_style import style_plot
from studio.services.session import RunSession

__all__ = ["LrFinderView", "BatchFinderView"]


def _finished(session: RunSession) -> dict | None:
    events = session.model.extras.get("run_finished") or []
    return events[-1] if events else None


def _fresh_events(view: QWidget, kind: str, force: bool) -> tuple[list, dict | None] | None:
    """The ``kind`` events and the run's end event when something changed since the view last drew, else None.

    Hidden views skip the work unless forced; ``view._seen`` remembers what was drawn.
    """
    if not force and not view.isVisible():
        return None
    events = view.session.model.extras.get(kind) or []
    finished = _finished(view.session)
    key = (len(events), id(finished))
    if key == view._seen and not force:
        return None
    view._seen = key
    return events, finished


class LrFinderView(QWidget):
    """The LR finder tab: raw and smoothed loss against lr (log x), the suggestion, the stop reason."""

    lr_applied = Signal(float)
    """The user applied the suggested learning rate."""

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.curve = LrCurve()
        self._seen = (-1, -1)
        self.plot_widget = style_plot(pg.PlotWidget())  # real values on the axes; follows the theme
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLogMode(x=True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "learning rate (log)")
        # The axis title says which line is which: a legend box in a corner covered the curve's start (top
        # left) or its divergence (top right).
        self.plot.setLabel("left", "loss (faint: each batch, bold: smoothed)")
        faint = pg.mkColor("#0072B2")
        faint.setAlpha(90)
        self.raw = self.plot.plot([], [], pen=pg.mkPen(faint, width=1), name="loss")
        self.smooth = self.plot.plot([], [], pen=pg.mkPen("#0072B2", width=2), name="smoothed loss")
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#D55E00", width=1),
                                      label="", labelOpts={"position": 0.9, "color": "#D55E00"})
        self.marker.setVisible(False)
        self.plot.addItem(self.marker, ignoreBounds=True)
        self.info = QLabel("Run Tune > LR finder to sweep the learning rate; the curve appears here live.")
        self.info.setObjectName("lrFinderInfo")
        self.info.setWordWrap(True)
        self.apply_button = QPushButton("Apply suggestion")
        self.apply_button.setToolTip("Write the suggested learning rate into the model form's lr field")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.series = lambda: {"loss": (self.curve.lr, self.curve.loss), "smoothed_loss": (self.curve.lr,
                                                                                           self.curve.smoothed)}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(button_row(self.apply_button, plot_export_button(self, self.plot, "lr_finder",
                                                                          self.series, x_name="lr")))
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.info)
        session.tick.connect(self.refresh)
        session.cleared.connect(lambda: self.refresh(force=True))

    def refresh(self, force: bool = False) -> None:
        """Redraw when new finder points arrived (or the run finished)."""
        fresh = _fresh_events(self, "lr_find_point", force)
        if fresh is None:
            return
        points, finished = fresh
        self.curve = lr_curve(points, finished)
        lr, loss, smooth = self.curve.lr, self.curve.loss, self.curve.smoothed
        ok = np.isfinite(loss) & (lr > 0)
        self.raw.setData(lr[ok], loss[ok])
        ok = np.isfinite(smooth) & (lr > 0)
        self.smooth.setData(lr[ok], smooth[ok])
        self._limit_y(smooth[ok], np.where(np.isfinite(loss[ok]), loss[ok], np.nan))
        suggestion = self.curve.suggestion
        if suggestion is not None and suggestion > 0 and math.isfinite(suggestion):
            self.marker.setPos(math.log10(suggestion))  # log-x views are in log10 units
            text = f"suggested {suggestion:.3g}"
            self.marker.label.setFormat(text)
            self.marker.label.setText(text)  # setFormat alone does not redraw a hidden label: it stayed blank
            self.marker.setVisible(True)
        else:
            self.marker.setVisible(False)
        self.apply_button.setEnabled(suggestion is not None)
        if not len(lr):
            self.info.setText("Run Tune > LR finder to sweep the learning rate; the curve appears here live.")
            return
        source = "reported by the run" if self.curve.reported else "steepest descent of the smoothed loss"
        text = f"{len(lr)} points, lr {lr[0]:.3g} to {lr[-1]:.3g}. Stop: {self.curve.stop_reason}. "
        text += (f"Suggested lr: {suggestion:.3g} ({source})." if suggestion is not None else
                 "No suggestion yet (needs at least 12 points with a finite smoothed loss).")
        caution = suggestion_caution(self.curve)
        text += f" {caution}" if caution else ""
        self.info.setText(text)

    def report_plots(self) -> list:
        """(caption, plot item, has data) for the run report."""
        self.refresh(force=True)
        return [("LR finder", self.plot, bool(len(self.curve.lr)))]

    def _limit_y(self, smooth: np.ndarray, raw: np.ndarray) -> None:
        # A diverging sweep ends with losses many orders above the rest; keep the interesting part in view.
        if len(smooth) < 3:
            return
        descent = int(np.argmin(smooth)) + 1
        # Everything up to the minimum (the descent), raw points included (``raw`` is aligned with ``smooth``,
        # NaN where not finite), plus the typical level; the divergence tail is cut off.
        head = raw[:descent][np.isfinite(raw[:descent])]
        # The floor is the lowest raw loss anywhere: when the smoothed minimum is the first point (the loss only
        # rose), the noisy raw curve dipped below the view and looked cut off.
        finite = raw[np.isfinite(raw)]
        low = float(min(np.min(smooth), np.min(finite) if len(finite) else np.inf))
        high = max(float(np.max(smooth[:descent])), float(np.median(smooth)),
                   float(np.max(head)) if len(head) else -np.inf) * 1.05
        if high > low:
            self.plot.setYRange(low - 0.05 * (high - low), high, padding=0)

    def apply(self) -> None:
        """Emit the suggestion as ``lr_applied`` (whoever connected it writes it into a form)."""
        if self.curve.suggestion is not None:
            self.lr_applied.emit(self.curve.suggestion)

    def show_applied(self, message: str) -> None:
        """Show what became of an applied suggestion (one sentence from whoever took it)."""
        self.info.setText(self.info.text().split(" Applied:")[0] + " Applied: " + message)


FITS_COLOR = "#009E73"
OOM_COLOR = "#D55E00"


def batch_size_ticks(sizes: list[int]) -> list[list[tuple[float, str]]]:
    """Log-axis ticks at the batch sizes tried (2, 4, 8, ...), leaving out any too close to a neighbour to label.

    The default log ticks (2, 5, 20, 50) fall between powers of two, so a point at 8 read as "about 7".
    """
    ticks: list[tuple[float, str]] = []
    for size in sorted({s for s in sizes if s > 0}):
        position = math.log10(size)
        if not ticks or position - ticks[-1][0] >= 0.12:  # about 1.3x apart: room for the labels
            ticks.append((position, f"{size:,}"))
    return [ticks] if ticks else []


class BatchFinderView(QWidget):
    """The batch-size finder tab: trials (size, fits/OOM, peak memory, time) as a table and a small plot."""

    batch_size_applied = Signal(int)
    """The user applied the batch size the finder found."""

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.trials = BatchTrials()
        self._seen = (-1, -1)
        self.model = TableModel(self)
        self.table = make_table_view(self.model)
        self.plot_widget = style_plot(pg.PlotWidget())  # real values on the axes; follows the theme
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setLogMode(x=True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "batch size (log)")
        # No legend box: it sat on the points of the smallest sizes. The table above is the legend (each trial's
        # row starts with its point's colour) and its Result column says fits / out of memory.
        # PlotDataItems (not bare scatter items) so the log-x mode applies to them.
        self.fits = self.plot.plot([], [], pen=None, symbol="o", symbolSize=10, symbolBrush=FITS_COLOR,
                                   symbolPen=None, name="fits")
        self.oom = self.plot.plot([], [], pen=None, symbol="x", symbolSize=12, symbolBrush=OOM_COLOR,
                                  symbolPen=OOM_COLOR, name="out of memory")
        self.info = QLabel("Run Tune > Batch-size finder; each trial appears here.")
        self.info.setObjectName("batchFinderInfo")
        self.info.setWordWrap(True)
        self.apply_button = QPushButton("Apply batch size")
        self.apply_button.setToolTip("Write the found batch size into the data settings")
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        # The table above the plot, its columns sized to their contents: beside the plot they hid behind a
        # horizontal scroll bar.
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.plot_widget)
        # Two fifths for the table: at 1280x720 the plot's share hid the last trial, the one the finder chose, behind
        # a scroll bar (a run tries 5-8 sizes).
        split.setSizes([400, 600])
        self.split = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.current = Table([])
        # The trials table is the finder's result: it exports like the other tables (this tab had no Export).
        layout.addLayout(button_row(self.apply_button, table_export_button(self, lambda: self.current,
                                                                           "batch_size_trials")))
        layout.addWidget(split, 1)
        layout.addWidget(self.info)
        session.tick.connect(self.refresh)
        session.cleared.connect(lambda: self.refresh(force=True))

    def refresh(self, force: bool = False) -> None:
        """Redraw when new trials arrived."""
        fresh = _fresh_events(self, "batch_size_trial", force)
        if fresh is None:
            return
        events, finished = fresh
        self.trials = batch_trials(events, finished)
        table = Table(["Trial", "Batch size", "Result", "Peak memory", "Time (s)"])
        for number, (size, fits, memory, seconds) in enumerate(self.trials.rows, 1):
            table.rows.append([number, size, "fits" if fits else "out of memory", fmt_bytes(memory)
                               if memory is not None else "n/a", seconds if seconds is not None else math.nan])
        chosen = {i for i, row in enumerate(self.trials.rows) if row[0] == self.trials.result and row[1]}
        swatches = {i: FITS_COLOR if row[1] else OOM_COLOR for i, row in enumerate(self.trials.rows)}
        self.current = table
        self.model.set_table(table, chosen, swatches)
        self.plot.getAxis("bottom").setTicks(batch_size_ticks([row[0] for row in self.trials.rows]) or None)
        use_memory = any(m is not None for _, _, m, _ in self.trials.rows)
        self.plot.setLabel("left", "peak memory (MiB)" if use_memory else "time per trial (s)")

        def y_of(row: tuple) -> float:
            value = row[2] / 2**20 if use_memory else row[3]
            return math.nan if value is None else float(value)

        good = [(r[0], y_of(r)) for r in self.trials.rows if r[1]]
        bad = [(r[0], y_of(r)) for r in self.trials.rows if not r[1]]
        self.fits.setData([g[0] for g in good], [g[1] for g in good])
        self.oom.setData([b[0] for b in bad], [b[1] if math.isfinite(b[1]) else 0.0 for b in bad])
        self.apply_button.setEnabled(self.trials.result is not None)
        if self.trials.rows:
            result = self.trials.result
            self.info.setText(f"{len(self.trials.rows)} trial(s); "
                              + (f"batch size found: {result}." if result is not None else "no size fitted."))

    def apply(self) -> None:
        """Emit the found size as ``batch_size_applied`` (whoever connected it writes it into the forms)."""
        if self.trials.result is not None:
            self.batch_size_applied.emit(int(self.trials.result))

    def show_applied(self, message: str) -> None:
        """Show what became of an applied batch size (one sentence from whoever took it)."""
        self.info.setText(message)
