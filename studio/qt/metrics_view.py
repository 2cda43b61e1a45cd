"""The live metrics plot: every series selectable, EMA smoothing over the faint raw line, log-y, crosshair readout
and an "ignore outliers" y range.

Drawn from the run model's numpy buffers on the session's redraw clock, only when visible and something changed:
each series is peak-decimated to about two points per pixel of the visible x range (``setData`` with
``skipFiniteCheck`` for finite data, clip to view), so a 1,000,000-point series stays interactive; zooming or
panning redraws from the full buffers.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.models.decimate import PeakCache, peak_decimate
from studio.models.smoothing import EmaCache
from studio.qt.plot_style import color_for, configure_pyqtgraph
from studio.qt.theme import is_dark
from studio.services.session import RunSession

__all__ = ["MetricsView", "visible_range"]


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
        symbol = "o" if epoch else None
        self.raw = plot.plot([], [], pen=pg.mkPen(raw_color, width=1), name=None)
        self.smooth = plot.plot([], [], pen=pg.mkPen(color, width=1), name=name, symbol=symbol, symbolSize=5,
                                symbolBrush=color, symbolPen=None)
        for item in (self.raw, self.smooth):
            # Points arrive already peak-decimated to the view (MetricsView._draw); clip-to-view still trims what
            # lies outside while panning between two redraws.
            item.setClipToView(True)
        self.epoch = epoch
        self.color = color
        self.drawn_version = -1
        self.drawn_weight = -1.0
        self.ema = EmaCache()
        self.peaks_raw = PeakCache()
        self.peaks_smooth = PeakCache()
        self.visible = True

    def set_epoch(self, epoch: bool) -> None:
        """Epoch-level series get point markers (a series is re-classified once it shows per-step points)."""
        self.epoch = epoch
        self.smooth.setSymbol("o" if epoch else None)
        self.drawn_version = -1

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        self.raw.setVisible(visible)
        self.smooth.setVisible(visible)


class MetricsView(QWidget):
    """Plot of the run's metric series.

    Args:
        session: the window's run session (reads ``session.model.metrics``).
    """

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = session.model.metrics
        self._curves: dict[str, _Curve] = {}
        self._store_version = -1
        self._hidden: set[str] = set()
        self.redraws = 0
        self._range_dirty = False

        configure_pyqtgraph(dark=is_dark())
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        for side in ("bottom", "left"):
            # Major grid lines only: the minor ones doubled the cost of every repaint (blended full-height lines).
            self.plot.getAxis(side).setStyle(maxTickLevel=0)
        self.plot.setLabel("bottom", "step")
        self.plot.addLegend(offset=(-10, 10))
        self.plot.setAutoVisible(y=True)
        self.plot.getViewBox().sigXRangeChanged.connect(self._on_range_changed)
        self._vline = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine))
        self._vline.setVisible(False)
        self.plot.addItem(self._vline, ignoreBounds=True)
        self._hint = pg.TextItem("Press Fit (Ctrl+R) to train: the curves appear here as they are logged",
                                 color="#888888", anchor=(0.5, 0.5))
        self.plot.addItem(self._hint, ignoreBounds=True)
        self._hint.setPos(0.5, 0.5)
        self.readout = QLabel(" ")
        self.readout.setObjectName("crosshairReadout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._proxy = pg.SignalProxy(self.plot_widget.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)

        self.series_list = QListWidget()
        self.series_list.setToolTip("Tick the metrics to plot")
        self.series_list.itemChanged.connect(self._on_item_changed)

        self.log_y = QCheckBox("Log y")
        self.log_y.setToolTip("Logarithmic y axis (values <= 0 are not drawn)")
        self.log_y.toggled.connect(self._on_log_y)
        self.outliers = QCheckBox("Ignore outliers")
        self.outliers.setToolTip("Scale y to the 5th-95th percentile of the plotted points, so spikes do not "
                                 "flatten the curves")
        self.outliers.toggled.connect(lambda _: self._apply_y_range(force=True))
        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 999)
        self.smoothing.setValue(600)
        self.smoothing.setToolTip("Debiased exponential moving average weight (0 = raw); the raw line stays faint "
                                  "underneath")
        self.smoothing_label = QLabel()
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self._on_smoothing(self.smoothing.value())
        export = QPushButton("Export…")
        export.setToolTip("Save the plot as PNG/SVG or its curves as CSV")
        export.clicked.connect(self._on_export)
        fit = QPushButton("Fit view")
        fit.setToolTip("Show all points again (auto range)")
        fit.clicked.connect(self._on_fit)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Smoothing"))
        controls.addWidget(self.smoothing, 1)
        controls.addWidget(self.smoothing_label)
        controls.addWidget(self.log_y)
        controls.addWidget(self.outliers)
        controls.addWidget(fit)
        controls.addWidget(export)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Metrics"))
        left_layout.addWidget(self.series_list)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.plot_widget, 1)
        right_layout.addWidget(self.readout)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([170, 800])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

        session.tick.connect(self.refresh)
        session.cleared.connect(self._on_cleared)

    # --- public -----------------------------------------------------------------------------------------------
    @property
    def weight(self) -> float:
        """The smoothing weight in [0, 0.999]."""
        return self.smoothing.value() / 1000.0

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) currently drawn for ``name``'s smoothed line (tests and exports)."""
        curve = self._curves[name].smooth
        x, y = curve.getOriginalDataset()
        return (np.asarray(x if x is not None else []), np.asarray(y if y is not None else []))

    def set_series_visible(self, name: str, visible: bool) -> None:
        """Show or hide one series (same as ticking it in the list)."""
        items = self.series_list.findItems(name, Qt.MatchFlag.MatchExactly)
        if items:
            items[0].setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)

    def refresh(self, force: bool = False) -> None:
        """Redraw what changed (called on the session clock; skipped while hidden)."""
        if not force and not self.isVisible():
            return
        if self.store.version == self._store_version and not force and (self._curves or not self.session.running):
            return
        self._store_version = self.store.version
        for name in self.store.names():
            if name not in self._curves:
                self._add_curve(name)
        self._hint.setVisible(not self._curves)
        if not self._curves:
            self._hint.setText("Starting the training process: curves appear with the first logged values"
                               if self.session.running else
                               "Press Fit (Ctrl+R) to train: the curves appear here as they are logged")
        weight = self.weight
        full_x = self._x_follows()
        buckets = max(200, self.plot_widget.width())
        view_lo, view_hi = self.plot.getViewBox().viewRange()[0]
        range_moved = self._range_dirty
        self._range_dirty = False
        changed = False
        for name, curve in self._curves.items():
            series = self.store.get(name)
            if series is None or not curve.visible:
                continue
            if (series.version == curve.drawn_version and weight == curve.drawn_weight and not force
                    and not range_moved):
                continue
            if (series.kind == "epoch") != curve.epoch:
                curve.set_epoch(series.kind == "epoch")
            x, y = series.view()
            smoothing = weight > 0 and series.kind == "step"
            smooth_y = curve.ema.update(y, weight) if smoothing else y
            if weight != curve.drawn_weight:
                curve.peaks_smooth.reset()
            # Each redraw hands pyqtgraph ~2 points per pixel of the visible part (spikes kept), not the buffer;
            # while the view follows the run, only points added since the last redraw are scanned.
            if full_x:
                self._draw(curve.raw, *curve.peaks_raw.update(x, y, buckets))
                self._draw(curve.smooth, *curve.peaks_smooth.update(x, smooth_y, buckets))
            else:
                self._draw(curve.raw, *peak_decimate(x, y, view_lo, view_hi, buckets))
                self._draw(curve.smooth, *peak_decimate(x, smooth_y, view_lo, view_hi, buckets))
            curve.raw.setVisible(smoothing)
            curve.drawn_version, curve.drawn_weight = series.version, weight
            changed = True
        if changed:
            self.redraws += 1
            self._apply_y_range()

    @staticmethod
    def _draw(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
        finite = bool(np.isfinite(y).all())
        item.setData(x, y, skipFiniteCheck=finite, connect="all" if finite else "finite")

    def _x_follows(self) -> bool:
        return bool(self.plot.getViewBox().autoRangeEnabled()[0])

    def _on_range_changed(self, *_: object) -> None:
        if not self._x_follows():
            self._range_dirty = True

    # --- internals --------------------------------------------------------------------------------------------
    def _add_curve(self, name: str) -> None:
        series = self.store.series(name)
        curve = _Curve(self.plot, name, color_for(len(self._curves)), series.kind == "epoch")
        self._curves[name] = curve
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        hidden = name in self._hidden
        item.setCheckState(Qt.CheckState.Unchecked if hidden else Qt.CheckState.Checked)
        item.setForeground(pg.mkColor(color_for(len(self._curves) - 1)))
        self.series_list.blockSignals(True)
        self.series_list.addItem(item)
        self.series_list.blockSignals(False)
        curve.set_visible(not hidden)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        name = item.text()
        visible = item.checkState() == Qt.CheckState.Checked
        (self._hidden.discard if visible else self._hidden.add)(name)
        curve = self._curves.get(name)
        if curve is not None:
            curve.set_visible(visible)
            curve.drawn_version = -1
        self.refresh(force=True)

    def _on_cleared(self) -> None:
        # Reuse nothing from the previous run but keep the plot item (re-creating plots leaks in PySide6).
        for curve in self._curves.values():
            self.plot.removeItem(curve.raw)
            self.plot.removeItem(curve.smooth)
        legend = self.plot.legend
        if legend is not None:
            legend.clear()
        self._curves.clear()
        self.series_list.clear()
        self._store_version = -1
        self.plot.enableAutoRange()
        self.refresh(force=True)

    def _on_smoothing(self, value: int) -> None:
        self.smoothing_label.setText(f"{value / 1000:.3f}")
        self.refresh(force=True)

    def _on_log_y(self, on: bool) -> None:
        self.plot.setLogMode(y=on)
        self._apply_y_range(force=True)

    def _on_export(self) -> None:
        import pyqtgraph.exporters  # noqa: F401 - registers the exporters the dialog lists

        scene = self.plot.scene()
        scene.contextMenuItem = self.plot  # what the dialog exports (set by a right-click otherwise)
        scene.showExportDialog()

    def _on_fit(self) -> None:
        self.plot.enableAutoRange()
        self._apply_y_range(force=True)

    def _apply_y_range(self, force: bool = False) -> None:
        view = self.plot.getViewBox()
        if not self.outliers.isChecked():
            if force:
                view.enableAutoRange(axis=pg.ViewBox.YAxis)
            return
        x_lo, x_hi = view.viewRange()[0]
        ys = []
        for name, curve in self._curves.items():
            series = self.store.get(name)
            if series is None or not curve.visible:
                continue
            x, y = series.view()
            lo, hi = np.searchsorted(x, [x_lo, x_hi])
            part = y[max(lo - 1, 0) : hi + 1]
            if self.log_y.isChecked():
                part = np.log10(part[part > 0])
            ys.append(part)
        span = visible_range(ys)
        if span is not None:
            view.disableAutoRange(axis=pg.ViewBox.YAxis)
            view.setYRange(*span, padding=0)

    def _on_mouse(self, args: tuple) -> None:
        pos = args[0]
        if not self.plot.sceneBoundingRect().contains(pos):
            self._vline.setVisible(False)
            return
        point = self.plot.getViewBox().mapSceneToView(pos)
        step = point.x()
        self._vline.setPos(step)
        self._vline.setVisible(True)
        parts = [f"step {step:,.0f}"]
        for name, curve in self._curves.items():
            series = self.store.get(name)
            if series is None or not curve.visible or not len(series):
                continue
            x, y = series.view()
            index = int(np.clip(np.searchsorted(x, step), 0, len(x) - 1))
            if index > 0 and abs(x[index - 1] - step) < abs(x[index] - step):
                index -= 1
            parts.append(f"{name} = {y[index]:.5g} @ {x[index]:,.0f}")
        self.readout.setText("    ".join(parts))
