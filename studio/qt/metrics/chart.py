"""One chart of the metric grid: its own y axis and title, a faint raw line under the EMA-smoothed one per series.

Redrawn from the run's numpy buffers (the smoothed values kept by each series, see
:meth:`studio.models.metric_store.Series.smoothed`), peak-decimated to about two points per pixel of the visible x range
(``setData`` with ``skipFiniteCheck`` for finite data), so a 1,000,000-point series stays interactive; while the
view follows the run only the points added since the last redraw are scanned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from studio.models.decimate import PeakCache, peak_decimate
from studio.models.metric_groups import Chart, follows_a_schedule
from studio.models.metric_store import MetricStore, Series
from studio.qt.metrics.keys import SeriesKeys
from studio.qt.plot_style import color_for, plot_colors, style_plot

__all__ = ["ChartOptions", "MetricChart", "X_LABELS", "smooths", "visible_range"]

X_LABELS = {"step": "step", "epoch": "epoch", "time": "wall time (s)"}


@dataclass(frozen=True)
class ChartOptions:
    """What the grid's toolbar sets for every chart."""

    weight: float = 0.6
    log_y: bool = False
    outliers: bool = False
    x_mode: str = "step"


def visible_range(ys: list[np.ndarray], low: float = 5.0, high: float = 95.0) -> tuple[float, float] | None:
    """A y range from the ``low``-``high`` percentiles of the finite values (the "ignore outliers" scale)."""
    parts = [y[np.isfinite(y)] for y in ys if len(y)]
    parts = [p[:: max(1, len(p) // 200_000)] for p in parts if len(p)]
    if not parts:
        return None
    values = np.concatenate(parts)
    lo, hi = np.percentile(values, [low, high])
    if hi <= lo:
        pad = abs(lo) * 0.05 or 1.0
        return float(lo - pad), float(hi + pad)
    pad = (hi - lo) * 0.1
    return float(lo - pad), float(hi + pad)


class _Curve:
    """The two plot items of one series (faint raw + smoothed) and their redraw bookkeeping."""

    def __init__(self, plot: pg.PlotItem, name: str, color: str, epoch: bool) -> None:
        raw_color = pg.mkColor(color)
        raw_color.setAlpha(70)
        self.raw = plot.plot([], [], pen=pg.mkPen(raw_color, width=1))
        self.smooth = plot.plot([], [], pen=pg.mkPen(color, width=1), name=name, symbol="o" if epoch else None,
                                symbolSize=5, symbolBrush=color, symbolPen=None)
        for item in (self.raw, self.smooth):
            # Points arrive decimated to the view; clip-to-view trims what lies outside while panning.
            item.setClipToView(True)
        self.epoch = epoch
        self.raw_wanted = False
        self.drawn_version = -1
        self.drawn_options: ChartOptions | None = None
        self.peaks_raw = PeakCache()
        self.peaks_smooth = PeakCache()

    def set_epoch(self, epoch: bool) -> None:
        """Epoch-level series get point markers (a series is re-classified once it shows per-step points)."""
        self.epoch = epoch
        self.smooth.setSymbol("o" if epoch else None)
        self.drawn_version = -1


class MetricChart(QFrame):
    """A titled plot of the series of one :class:`Chart`.

    Signals:
        hovered(float): the mouse is over x (in the chart's x units); NaN when it left the plot.
        enlarge_requested(): the user asked to see this chart alone.
        export_requested(): the user asked to export this chart.
    """

    hovered = Signal(float)
    enlarge_requested = Signal()
    export_requested = Signal()
    series_toggled = Signal(str)

    def __init__(self, chart: Chart, store: MetricStore, parent: QWidget | None = None, *,
                 hidden: set[str] | None = None) -> None:
        super().__init__(parent)
        self.chart = chart
        self.store = store
        # Names of the series the user hid by clicking their key; the grid passes its own set, shared by its charts.
        self.hidden: set[str] = hidden if hidden is not None else set()
        self.setObjectName("metricChart")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.curves: dict[str, _Curve] = {}
        self.redraws = 0
        self.drawn_at = 0.0  # monotonic time of the last redraw that changed something (the grid throttles)
        self._range_dirty = False
        self._options = ChartOptions()
        self._clockless = False  # an epoch/time axis shows steps while the run recorded neither

        self.plot_widget = style_plot(pg.PlotWidget())
        self.plot = self.plot_widget.getPlotItem()
        for side in ("bottom", "left"):
            # No grid lines and major ticks only: blended full-size grid lines made each axis repaint cost 6 ms,
            # several times the curves', and a grid shows many charts at once.
            self.plot.getAxis(side).setStyle(maxTickLevel=0)
        self.plot.setLabel("bottom", "step")
        self.plot.setAutoVisible(y=True)
        self.plot.setMenuEnabled(False)
        self.plot.getViewBox().sigXRangeChanged.connect(self._on_range_changed)
        self._vline = pg.InfiniteLine(angle=90, movable=False,
                                      pen=pg.mkPen(plot_colors().muted, style=Qt.PenStyle.DashLine))
        self._vline.setVisible(False)
        self.plot.addItem(self._vline, ignoreBounds=True)
        # pyqtgraph's own scene menu offers its developer export dialog; this chart's export replaces it.
        export_action = QAction("Export…", self)
        export_action.triggered.connect(self.export_requested.emit)
        self.plot_widget.scene().contextMenu = [export_action]
        self._proxy = pg.SignalProxy(self.plot_widget.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)

        self.title = QLabel()
        self.title.setObjectName("chartTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setMinimumWidth(20)  # long names are elided by the width, never widen the window
        self.keys = SeriesKeys()
        self.keys.toggled.connect(self.series_toggled.emit)
        enlarge = QToolButton()
        enlarge.setText("⤢")
        enlarge.setToolTip("Show this chart alone (double-click the title does the same)")
        enlarge.setAutoRaise(True)
        enlarge.clicked.connect(self.enlarge_requested.emit)
        export = QToolButton()
        export.setText("⇩")
        export.setToolTip("Export this chart: PNG, SVG, or CSV of the raw and smoothed values")
        export.setAutoRaise(True)
        export.clicked.connect(self.export_requested.emit)
        header = QHBoxLayout()
        header.setContentsMargins(4, 2, 2, 0)
        header.addWidget(self.title)
        header.addWidget(self.keys, 1)
        header.addWidget(export)
        header.addWidget(enlarge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)
        self.set_chart(chart)

    # --- contents ---------------------------------------------------------------------------------------------
    def reuse(self, chart: Chart) -> None:
        """Start over for another run's ``chart``: the curves go, the plot stays (re-creating plot widgets for each
        run leaks memory in PySide6)."""
        for curve in self.curves.values():
            self.plot.removeItem(curve.raw)
            self.plot.removeItem(curve.smooth)
        self.curves.clear()
        self.redraws = 0
        self.drawn_at = 0.0
        self._vline.setVisible(False)
        self.plot.enableAutoRange()
        self.set_chart(chart)

    def set_chart(self, chart: Chart) -> None:
        """Show ``chart``'s series (new ones get curves; the key beside the title names them once there are two)."""
        self.chart = chart
        self.title.setText(chart.title)
        self.title.setToolTip("\n".join(chart.series))
        # The keys sit in the header, not in a legend over the curves (a small chart has no room to spare).
        self.keys.set_series(chart.series, self.hidden)
        for index, name in enumerate(chart.series):
            if name in self.curves:
                continue
            series = self.store.get(name)
            self.curves[name] = _Curve(self.plot, name, color_for(index), series is not None and
                                       series.kind == "epoch")
        self.apply_hidden()

    def apply_hidden(self) -> None:
        """Show or hide each curve as :attr:`hidden` says, dim the hidden series' keys and rescale to the rest."""
        for name, curve in self.curves.items():
            shown = name not in self.hidden
            curve.smooth.setVisible(shown)
            curve.raw.setVisible(shown and curve.raw_wanted)
        self.keys.show_hidden(self.hidden & set(self.curves))
        self.plot.getViewBox().updateAutoRange()
        self.apply_y_range()

    def smoothing_lag(self, weight: float) -> int:
        """The most points one of this chart's smoothed series still has to smooth before a redraw (0: none)."""
        if weight <= 0:
            return 0
        lags = [series.smoothing_lag(weight) for name in self.curves
                if (series := self.store.get(name)) is not None and smooths(name, series, weight)]
        return max(lags, default=0)

    def mouseDoubleClickEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.enlarge_requested.emit()

    # --- drawing ----------------------------------------------------------------------------------------------
    def x_of(self, series: Series, x_mode: str) -> np.ndarray:
        """The series' x values in the chart's x units (step, epoch or seconds since the start)."""
        x, _ = series.view()
        if x_mode == "epoch":
            return self.store.clock.to_epoch(x)
        if x_mode == "time":
            return self.store.clock.to_seconds(x)
        return x

    def redraw(self, options: ChartOptions, force: bool = False) -> bool:
        """Redraw the series that changed (or all with ``force``); returns True when something was drawn."""
        if options.log_y != self._options.log_y:
            self.plot.setLogMode(y=options.log_y)
        if options.x_mode != self._options.x_mode or (options.x_mode != "step" and self._clockless != (
                len(self.store.clock) == 0)):
            self._clockless = len(self.store.clock) == 0
            label = X_LABELS.get(options.x_mode, options.x_mode)
            if options.x_mode != "step" and self._clockless:
                label = f"step (this run recorded no {options.x_mode.replace('time', 'wall time')})"
            self.plot.setLabel("bottom", label)
            self.plot.enableAutoRange()
            force = True
        self._options = options
        view = self.plot.getViewBox()
        follow = bool(view.autoRangeEnabled()[0]) and options.x_mode == "step"
        view_lo, view_hi = view.viewRange()[0]
        moved = self._range_dirty
        self._range_dirty = False
        buckets = max(100, self.plot_widget.width())
        changed = False
        for name, curve in self.curves.items():
            series = self.store.get(name)
            if series is None:
                continue
            if series.version == curve.drawn_version and curve.drawn_options == options and not force and not moved:
                continue
            if (series.kind == "epoch") != curve.epoch:
                curve.set_epoch(series.kind == "epoch")
            _, y = series.view()
            x = self.x_of(series, options.x_mode)
            smoothing = smooths(name, series, options.weight)
            if curve.drawn_options is None or curve.drawn_options.weight != options.weight:
                curve.peaks_smooth.reset()
            smooth_y = series.smoothed(options.weight) if smoothing else y
            if follow:
                # While following the run only points added since the last redraw are scanned.
                self._set(curve.raw, *curve.peaks_raw.update(x, y, buckets))
                self._set(curve.smooth, *curve.peaks_smooth.update(x, smooth_y, buckets))
            else:
                # Auto range on an epoch/time axis shows everything; a zoomed view draws what it shows.
                whole = bool(view.autoRangeEnabled()[0]) and len(x) > 0
                lo, hi = (float(x[0]), float(x[-1])) if whole else (view_lo, view_hi)
                self._set(curve.raw, *peak_decimate(x, y, lo, hi, buckets))
                self._set(curve.smooth, *peak_decimate(x, smooth_y, lo, hi, buckets))
                curve.peaks_raw.reset()
                curve.peaks_smooth.reset()
            curve.raw_wanted = smoothing  # the faint raw line only under a smoothed one
            curve.raw.setVisible(smoothing and name not in self.hidden)
            curve.drawn_version, curve.drawn_options = series.version, options
            changed = True
        if changed:
            self.redraws += 1
            self.apply_y_range(force=force)
        return changed

    @staticmethod
    def _set(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        finite = bool(np.isfinite(y).all())
        item.setData(x, y, skipFiniteCheck=finite, connect="all" if finite else "finite")

    def _on_range_changed(self, *_: object) -> None:
        if not self.plot.getViewBox().autoRangeEnabled()[0]:
            self._range_dirty = True

    def fit(self) -> None:
        """Show all points again (auto range)."""
        self.plot.enableAutoRange()
        self.apply_y_range(force=True)

    def apply_y_range(self, force: bool = False) -> None:
        """Scale y to the bulk of the visible points when "ignore outliers" is on (else auto range)."""
        view = self.plot.getViewBox()
        if not self._options.outliers:
            if force:
                view.enableAutoRange(axis=pg.ViewBox.YAxis)
            return
        x_lo, x_hi = view.viewRange()[0]
        ys = []
        for name in self.curves:
            series = self.store.get(name)
            if series is None or name in self.hidden:
                continue
            x = self.x_of(series, self._options.x_mode)
            y = series.view()[1]
            lo, hi = np.searchsorted(x, [x_lo, x_hi])
            part = y[max(lo - 1, 0) : hi + 1]
            if self._options.log_y:
                part = np.log10(part[part > 0])
            ys.append(part)
        span = visible_range(ys)
        if span is not None:
            view.disableAutoRange(axis=pg.ViewBox.YAxis)
            view.setYRange(*span, padding=0)

    # --- crosshair --------------------------------------------------------------------------------------------
    def set_cursor(self, x: float) -> None:
        """Draw the crosshair's vertical line at ``x`` (NaN hides it)."""
        if np.isnan(x):
            self._vline.setVisible(False)
            return
        self._vline.setPos(x)
        self._vline.setVisible(True)

    def values_at(self, x: float) -> list[tuple[str, float, float]]:
        """(series, value, point's x) of the point nearest to ``x`` in each shown series (hidden ones skipped)."""
        out = []
        for name in self.curves:
            series = self.store.get(name)
            if series is None or not len(series) or name in self.hidden:
                continue
            xs = self.x_of(series, self._options.x_mode)
            ys = series.view()[1]
            index = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
            if index > 0 and abs(xs[index - 1] - x) < abs(xs[index] - x):
                index -= 1
            out.append((name, float(ys[index]), float(xs[index])))
        return out

    def _on_mouse(self, args: tuple) -> None:
        pos = args[0]
        if not self.plot.sceneBoundingRect().contains(pos):
            self.hovered.emit(float("nan"))
            return
        self.hovered.emit(float(self.plot.getViewBox().mapSceneToView(pos).x()))

    # --- export -----------------------------------------------------------------------------------------------
    def export_series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Named columns for CSV: each series' raw values and, where smoothing applies, its smoothed values."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        weight = self._options.weight
        for name in self.curves:
            series = self.store.get(name)
            if series is None:
                continue
            _, y = series.view()
            x = self.x_of(series, self._options.x_mode)
            out[name] = (x.copy(), y.copy())
            if smooths(name, series, weight):
                from studio.models.smoothing import ema

                out[f"{name} (smoothed {weight:.3g})"] = (x.copy(), ema(y, weight))
        return out

    @property
    def x_mode(self) -> str:
        """The x unit drawn now."""
        return self._options.x_mode


def smooths(name: str, series: Series, weight: float) -> bool:
    """Whether ``series`` is drawn EMA-smoothed: per-step values at a weight above 0, except a schedule the trainer
    set (a learning rate or momentum), which is drawn as it is."""
    return weight > 0 and series.kind == "step" and not follows_a_schedule(name)
