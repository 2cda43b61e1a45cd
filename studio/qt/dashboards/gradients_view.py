"""Gradients: the total gradient norm over steps, per-layer norms (heatmap of layer x step, or chosen curves),
exploded/vanished marks with settable thresholds, and whether gradient clipping was active.

Data: the ``grad_{p}_norm/...`` metrics of ``track_grad_norm`` (see studio.models.dashboards.grads).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.models.dashboards.grads import (
    GradLayout,
    LayerBins,
    Thresholds,
    clip_value,
    clipped_steps,
    flag_steps,
    grad_layout,
)
from studio.qt.dashboards.common import plot_export_button, run_config
from studio.qt.dashboards.series_plot import SeriesPlot
from studio.qt.plot_style import style_plot
from studio.services.session import RunSession

# Dashboards redraw at most 5 times a second while a run streams (the metrics tab keeps the full clock rate).
MIN_INTERVAL_S = 0.2

__all__ = ["GradientsView"]

_EMPTY = ("No gradient norms in this run. Set the Trainer flag track_grad_norm (e.g. 2; Trainer tab > "
          "Optimization) and run a Fit to log them.")


class GradientsView(QWidget):
    """The Gradients tab."""

    warning = Signal(str)
    """A new exploded/vanished-norm warning (one line), for the window's status bar."""

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = session.model.metrics
        self.layout_info = GradLayout()
        self.thresholds = Thresholds()
        self._store_version = -1
        self._drawn_at = 0.0
        self._config_checked = False
        self.clip: float | None = None
        self.clip_algorithm = "norm"
        self.message = ""
        self.bins = LayerBins(256)
        self._heat_drawn = 0.0
        self._heat_pending = False

        self.total_plot = SeriesPlot(self.store.get, y_label="total norm", legend=False)
        self.total_plot.plot_item.setTitle("Total gradient norm")
        self.exploded_marks = pg.ScatterPlotItem(size=9, symbol="t", brush=pg.mkBrush("#D55E00"), pen=None)
        self.vanished_marks = pg.ScatterPlotItem(size=9, symbol="t1", brush=pg.mkBrush("#56B4E9"), pen=None)
        self.clip_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen("#CC79A7", style=Qt.PenStyle.DashLine),
                                         label="clip", labelOpts={"position": 0.05, "color": "#CC79A7"})
        self.clip_line.setVisible(False)
        for item in (self.exploded_marks, self.vanished_marks):
            self.total_plot.plot_item.addItem(item)
        self.total_plot.plot_item.addItem(self.clip_line, ignoreBounds=True)

        self.mode = QComboBox()
        self.mode.addItems(["Heatmap (layer x step)", "Curves"])
        self.mode.currentIndexChanged.connect(self._on_mode)
        self.heatmap = style_plot(pg.PlotWidget())  # real step values on x; follows the theme
        self.heat_item = pg.ImageItem()
        self.heatmap.getPlotItem().addItem(self.heat_item)
        self.heatmap.getPlotItem().setLabel("bottom", "step")
        self.heatmap.getPlotItem().setTitle("log10 gradient norm per layer (max per step bin)")
        self.heat_item.setColorMap(pg.colormap.get("viridis"))
        self.color_bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12,
                                         label="log10 norm")
        self.color_bar.setImageItem(self.heat_item, insert_in=self.heatmap.getPlotItem())
        self.layer_plot = SeriesPlot(self.store.get, y_label="norm")
        self.layer_list = QListWidget()
        self.layer_list.setToolTip("Tick the layers to draw as curves")
        self.layer_list.itemChanged.connect(lambda _: self._sync_curves())
        curves = QSplitter()
        curves.addWidget(self.layer_list)
        curves.addWidget(self.layer_plot)
        curves.setSizes([200, 700])
        self.stack = QStackedWidget()
        self.stack.addWidget(self.heatmap)
        self.stack.addWidget(curves)

        validator = QDoubleValidator(0.0, 1e300, 12)
        self.exploded_edit = QLineEdit(f"{self.thresholds.exploded:g}")
        self.vanished_edit = QLineEdit(f"{self.thresholds.vanished:g}")
        for edit, tip in ((self.exploded_edit, "Norms above this (or NaN/inf) are marked as exploded"),
                          (self.vanished_edit, "Norms below this are marked as vanished")):
            edit.setValidator(validator)
            edit.setMaximumWidth(90)
            edit.setToolTip(tip)
            edit.editingFinished.connect(self._on_thresholds)
        self.clip_label = QLabel()
        self.clip_label.setObjectName("clipIndicator")
        self.clip_label.setWordWrap(True)
        self.status = QLabel(_EMPTY)
        self.status.setObjectName("gradStatus")
        self.status.setWordWrap(True)

        controls = QHBoxLayout()
        controls.addWidget(QLabel("Exploded above"))
        controls.addWidget(self.exploded_edit)
        controls.addWidget(QLabel("Vanished below"))
        controls.addWidget(self.vanished_edit)
        controls.addStretch(1)
        controls.addWidget(QLabel("Per layer:"))
        controls.addWidget(self.mode)
        controls.addWidget(plot_export_button(self, self.total_plot.plot_item, "grad_norm_total",
                                              self.total_plot.visible_series))
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.total_plot)
        split.addWidget(self.stack)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(controls)
        layout.addWidget(self.clip_label)  # its own line: a long clipping note must not widen the window
        layout.addWidget(split, 1)
        layout.addWidget(self.status)

        session.tick.connect(self.refresh)
        session.cleared.connect(self._on_cleared)

    def report_plots(self) -> list:
        """(caption, plot item, has data) for the run report."""
        self.refresh(force=True)
        return [("Total gradient norm", self.total_plot.plot_item, self.layout_info.total is not None)]

    # --- updates ----------------------------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Redraw when visible and the metrics moved."""
        if not force and not self.isVisible():
            return
        if self.store.version == self._store_version and not force and not self._heat_pending:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < MIN_INTERVAL_S:
            return  # drawn a moment ago: the next clock tick draws what arrived meanwhile
        self._drawn_at = now
        self._store_version = self.store.version
        if not self._config_checked and self.session.model.extras.get("run_started"):
            self.clip, self.clip_algorithm = clip_value(run_config(self.session))
            self._config_checked = True
        layout = grad_layout(self.store.names())
        if layout.total != self.layout_info.total or layout.layers != self.layout_info.layers:
            self.layout_info = layout
            self.bins.reset()
            self.total_plot.set_series([layout.total] if layout.total else [], {layout.total or "": "total"})
            self._fill_layers()
        self.total_plot.refresh(force)
        if self.stack.currentIndex() == 0:
            # The heatmap scans every layer's whole history: at most twice a second while a run streams.
            now = time.monotonic()
            if force or now - self._heat_drawn >= 0.5:
                self._heat_drawn = now
                self._heat_pending = False
                self._draw_heatmap()
            else:
                self._heat_pending = True
        else:
            self.layer_plot.refresh(force)
        self._update_marks()

    def _fill_layers(self) -> None:
        self.layer_list.blockSignals(True)
        checked = {self.layer_list.item(i).text() for i in range(self.layer_list.count())
                   if self.layer_list.item(i).checkState() == Qt.CheckState.Checked}
        self.layer_list.clear()
        for number, param in enumerate(self.layout_info.layers):
            item = QListWidgetItem(param)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            on = param in checked or (not checked and number < 5)
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.layer_list.addItem(item)
        self.layer_list.blockSignals(False)
        self._sync_curves()

    def _sync_curves(self) -> None:
        names, labels = [], {}
        for i in range(self.layer_list.count()):
            item = self.layer_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                series = self.layout_info.layers[item.text()]
                names.append(series)
                labels[series] = item.text()
        self.layer_plot.set_series(names, labels)
        self.layer_plot.refresh(force=True)

    def _draw_heatmap(self) -> None:
        params = list(self.layout_info.layers)
        if not params:
            self.heat_item.clear()
            return
        data = []
        for param in params:
            series = self.store.get(self.layout_info.layers[param])
            data.append(series.view() if series is not None else (np.empty(0), np.empty(0)))
        matrix, x0, x1 = self.bins.update(data)  # reads only the points added since the last redraw
        finite = matrix[np.isfinite(matrix)]
        levels = (float(finite.min()), float(finite.max()) + 1e-9) if len(finite) else (0.0, 1.0)
        # ImageItem's first axis is x: transpose so rows are layers (y) and columns are step bins (x).
        self.heat_item.setImage(np.nan_to_num(matrix.T, nan=levels[0]), levels=levels, autoLevels=False)
        self.color_bar.setLevels(levels)
        self.heat_item.setRect(x0, 0, max(x1 - x0, 1.0), len(params))
        axis = self.heatmap.getPlotItem().getAxis("left")
        step = max(1, len(params) // 25)
        axis.setTicks([[(i + 0.5, params[i]) for i in range(0, len(params), step)]])

    def _update_marks(self) -> None:
        total = self.store.get(self.layout_info.total) if self.layout_info.total else None
        if total is None:
            self.exploded_marks.setData([], [])
            self.vanished_marks.setData([], [])
            self.clip_line.setVisible(False)
            self.clip_label.setText("")
            self._set_status(_EMPTY if not self.layout_info.layers else "")
            return
        x, y = total.view()
        exploded, vanished = flag_steps(x, y, self.thresholds)
        shown_y = np.where(np.isfinite(y), y, np.nanmax(np.where(np.isfinite(y), y, np.nan), initial=1.0))
        self.exploded_marks.setData(x[exploded[-2000:]], shown_y[exploded[-2000:]])
        self.vanished_marks.setData(x[vanished[-2000:]], shown_y[vanished[-2000:]])
        parts = []
        if len(exploded):
            parts.append(f"exploded gradient norm at {len(exploded)} step(s) (first: step {x[exploded[0]]:,.0f}, "
                         f"norm {y[exploded[0]]:.4g} > {self.thresholds.exploded:g})")
        if len(vanished):
            parts.append(f"vanishing gradient norm at {len(vanished)} step(s) (first: step {x[vanished[0]]:,.0f}, "
                         f"norm {y[vanished[0]]:.3g} < {self.thresholds.vanished:g})")
        if self.clip is not None:
            clipped = clipped_steps(x, y, self.clip, self.clip_algorithm)
            self.clip_line.setPos(self.clip)
            self.clip_line.label.setFormat(f"clip {self.clip:g}")
            self.clip_line.setVisible(self.clip_algorithm == "norm")
            if self.clip_algorithm == "norm":
                self.clip_label.setText(f"Clipping active ({self.clip_algorithm} <= {self.clip:g}): "
                                        f"{len(clipped)} of {len(x)} logged steps clipped")
            else:
                self.clip_label.setText(f"Clipping active (value, |g| <= {self.clip:g})")
        else:
            self.clip_line.setVisible(False)
            self.clip_label.setText("Clipping off (gradient_clip_val not set)")
        self._set_status("Warning: " + "; ".join(parts) if parts else
                         f"{len(self.layout_info.layers)} layer(s), {len(x):,} logged steps; no exploded or "
                         "vanished norms.")

    def _set_status(self, text: str) -> None:
        if text == self.message:
            return
        self.message = text
        self.status.setText(text)
        self.status.setStyleSheet("color: #d64545;" if text.startswith("Warning") else "")
        if text.startswith("Warning"):
            self.warning.emit("Gradients: " + text[len("Warning: "):])

    def _on_thresholds(self) -> None:
        try:
            self.thresholds = Thresholds(float(self.exploded_edit.text()), float(self.vanished_edit.text()))
        except ValueError:
            return
        self.refresh(force=True)

    def set_thresholds(self, exploded: float, vanished: float) -> None:
        """Change the thresholds (same as editing the fields)."""
        self.exploded_edit.setText(f"{exploded:g}")
        self.vanished_edit.setText(f"{vanished:g}")
        self._on_thresholds()

    def _on_mode(self, index: int) -> None:
        self.stack.setCurrentIndex(index)
        self.refresh(force=True)

    def _on_cleared(self) -> None:
        self.layout_info = GradLayout()
        self.bins.reset()
        self._config_checked = False
        self.clip = None
        self.total_plot.reset()
        self.layer_plot.reset()
        self.layer_list.clear()
        self._store_version = -1
        self.refresh(force=True)
