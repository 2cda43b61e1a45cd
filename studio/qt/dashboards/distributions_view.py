"""Distributions: how one tag's histogram changes over steps, as a step x value heatmap or an offset ridge plot
(TensorBoard's distributions and histograms views), with a tag filter. The heatmap's colour is the square root
of each cell's fraction (tails stay visible beside a peak); each ridge is scaled to its own peak.

Data: ``histogram`` events (``logger.experiment.add_histogram``, Bolts' ModuleDataMonitor and
TrainingDataMonitor), and the per-layer gradient norms of ``track_grad_norm`` as one distribution over layers.
Each step's counts are shown as fractions of that step's values, so a layer whose activations spread or collapse
reads the same at any batch size.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.models.dashboards.grads import grad_layout
from studio.models.dashboards.media import spread_of_series
from studio.qt.dashboards.common import plot_export_button
from studio.qt.plot_style import style_plot
from studio.services.session import RunSession

__all__ = ["DistributionsView", "GRAD_NORM_TAG", "RIDGE_LINES"]

GRAD_NORM_TAG = "grad norms over layers (log10)"
"""The tag listed first when the run tracks gradient norms: per step, how the layers' norms spread."""

_EMPTY = ("No histograms in this run. Log them with self.logger.experiment.add_histogram(tag, values, step), or "
          "add ModuleDataMonitor (activations of submodules) or TrainingDataMonitor (the batch) from "
          "trainer_core.bolts.callbacks.")
MIN_INTERVAL_S = 0.2  # dashboards redraw at most 5 times a second while a run streams
RIDGE_LINES = 24  # curves in the ridge plot (evenly spread over the steps, the newest always drawn)
VALUE_BINS = 64


def share_ticks(top: float) -> list[tuple[float, str]]:
    """Colour-scale ticks for a square-root shaded heatmap whose brightest cell is ``top`` (= sqrt of a share).

    Each tick sits at sqrt(share) and reads as the share itself (``1%``, ``10%``, ``50%``).
    """
    highest = top * top
    shares = [v for v in (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0) if v <= highest * 1.0001]
    if len(shares) > 5:  # keep the labels apart on a short bar: zero, then the largest few
        shares = [0.0, *shares[-4:]]
    return [(math.sqrt(v), f"{v:.0%}") for v in shares]


def _shade(line: int, lines: int) -> float:
    """Colour-map position of ridge ``line``: the middle 70 % of viridis, whose ends vanish on a dark or a light
    background."""
    return 0.15 + 0.7 * line / max(lines - 1, 1)


class DistributionsView(QWidget):
    """The Distributions tab: a filterable tag list beside the chosen tag's heatmap or ridge plot."""

    tag_shown = Signal(str)
    """The tag now drawn."""

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = session.model.media
        self.metrics = session.model.metrics
        self.current_tag = ""
        self._drawn_version = -1
        self._drawn_metrics = -1
        self._grad_columns: dict[str, str] = {}
        self._drawn_at = 0.0
        self.matrix = np.zeros((0, 0))
        self.steps = np.zeros(0)
        self.edges = np.zeros(0)

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter tags")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda _text: self._fill_tags())
        self.tags = QListWidget()
        self.tags.currentTextChanged.connect(self._on_tag)
        self.mode = QComboBox()
        self.mode.addItems(["Heatmap (step x value)", "Ridge (offset histograms)"])
        self.mode.currentIndexChanged.connect(lambda _index: self.redraw())
        self.status = QLabel(_EMPTY)
        self.status.setWordWrap(True)

        self.plot = style_plot(pg.PlotWidget())
        self.plot_item = self.plot.getPlotItem()
        self.heat = pg.ImageItem()
        self.heat.setColorMap(pg.colormap.get("viridis"))
        self.plot_item.addItem(self.heat)
        # What a colour means: without a scale the heatmap's colours had no numbers.
        self.color_bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12,
                                         label="share of the step's values")
        self.color_bar.setImageItem(self.heat, insert_in=self.plot_item)
        self.ridges: list[pg.PlotDataItem] = []
        export = plot_export_button(self, self.plot_item, "distribution", self._series, x_name="bin_center")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.filter)
        left_layout.addWidget(self.tags, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        controls = QHBoxLayout()
        controls.addWidget(self.mode)
        controls.addStretch(1)
        controls.addWidget(export)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.plot, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 900])
        left.setMaximumWidth(360)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

        session.tick.connect(self._on_tick)
        session.cleared.connect(self._on_cleared)
        session.run_started.connect(lambda _mode: self._on_cleared())

    # --- updates ---------------------------------------------------------------------------------------------
    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)  # type: ignore[arg-type]
        self.refresh(force=True)

    def _on_tick(self) -> None:
        if self.isVisible():
            self.refresh()

    def _on_cleared(self) -> None:
        self.current_tag = ""
        self.tags.clear()
        self._drawn_version = -1
        self._drawn_metrics = -1
        if self.isVisible():
            self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        """Pick up new tags and redraw the shown one when new histograms arrived (at most 5 times a second)."""
        metrics_moved = self.metrics.version != self._drawn_metrics
        histograms_moved = self.store.histogram_version != self._drawn_version
        if not (histograms_moved or metrics_moved or force):
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < MIN_INTERVAL_S:
            return
        self._drawn_at = now
        self._drawn_version = self.store.histogram_version
        if metrics_moved:
            self._drawn_metrics = self.metrics.version
            self._grad_columns = grad_layout(self.metrics.names()).layers
        if self.tags.count() != len(self._tag_names()):
            self._fill_tags()
        self.status.setVisible(not self.store.histograms and not self._grad_columns)
        shown_moved = metrics_moved if self.current_tag == GRAD_NORM_TAG else histograms_moved
        if shown_moved or force:
            self.redraw()

    def _tag_names(self) -> list[str]:
        pattern = self.filter.text().strip()
        grads = [GRAD_NORM_TAG] if self._grad_columns and pattern.lower() in GRAD_NORM_TAG else []
        return grads + self.store.histogram_tags(pattern)

    def _fill_tags(self) -> None:
        tags = self._tag_names()
        self.tags.blockSignals(True)
        self.tags.clear()
        self.tags.addItems(tags)
        chosen = self.current_tag if self.current_tag in tags else (tags[0] if tags else "")
        if chosen:
            self.tags.setCurrentRow(tags.index(chosen))
        self.tags.blockSignals(False)
        if chosen != self.current_tag:
            self._on_tag(chosen)

    def _on_tag(self, tag: str) -> None:
        self.current_tag = tag
        self.redraw()
        if tag:
            self.tag_shown.emit(tag)

    # --- drawing ---------------------------------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw ``current_tag`` in the chosen mode."""
        for item in self.ridges:
            self.plot_item.removeItem(item)
        self.ridges.clear()
        self.heat.clear()
        if self.current_tag == GRAD_NORM_TAG:
            columns = [series.view() for name in self._grad_columns.values()
                       if (series := self.metrics.get(name)) is not None]
            self.steps, self.edges, matrix = spread_of_series(columns, VALUE_BINS)
        else:
            self.steps, self.edges, matrix = self.store.histogram_matrix(self.current_tag, VALUE_BINS)
        totals = matrix.sum(axis=1, keepdims=True) if matrix.size else matrix
        self.matrix = np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)
        if not self.current_tag or not self.matrix.size:
            self.plot_item.setTitle("")
            return
        self.plot_item.setTitle(self.current_tag)
        if self.mode.currentIndex() == 0:
            self._draw_heatmap()
        else:
            self._draw_ridges()

    def _draw_heatmap(self) -> None:
        self.heat.setVisible(True)
        # Square-root colour: the tails of a distribution stay visible next to a tall peak.
        shade = np.sqrt(self.matrix)
        top = max(float(shade.max()), 1e-12)
        self.heat.setImage(shade, autoLevels=False, levels=(0.0, top))
        self.color_bar.setLevels((0.0, top))
        # The scale is labelled in shares at their square-root positions, so it reads like the data.
        self.color_bar.axis.setTicks([share_ticks(top)])
        self.color_bar.setVisible(True)
        self.plot_item.getAxis("left").setTicks(None)
        first, last = float(self.steps[0]), float(self.steps[-1])
        width = (last - first) * len(self.steps) / max(len(self.steps) - 1, 1) or 1.0
        self.heat.setRect(QRectF(first, float(self.edges[0]), width, float(self.edges[-1] - self.edges[0])))
        self.plot_item.setLabel("bottom", "step")
        self.plot_item.setLabel("left", "value")
        self.plot_item.autoRange()

    def _draw_ridges(self) -> None:
        self.heat.setVisible(False)
        self.color_bar.setVisible(False)  # each ridge is scaled to its own peak: no shared colour scale
        count = len(self.steps)
        picks = np.unique(np.linspace(0, count - 1, min(count, RIDGE_LINES)).round().astype(int))
        centers = (self.edges[:-1] + self.edges[1:]) / 2
        colors = pg.colormap.get("viridis")
        ticks = []
        for line, index in enumerate(picks):
            offset = float(len(picks) - 1 - line)  # newest at the bottom, like TensorBoard's histograms view
            row = self.matrix[index]
            # Each ridge scaled to its own peak (1.6 rows high), so a spiky early step does not flatten the rest.
            height = 1.6 * row / max(float(row.max()), 1e-12)
            curve = pg.PlotDataItem(centers, offset + height,
                                    pen=pg.mkPen(colors.map(_shade(line, len(picks)), mode="qcolor"), width=1.5))
            self.plot_item.addItem(curve)
            self.ridges.append(curve)
            ticks.append((offset, f"{int(self.steps[index]):,}"))
        self.plot_item.getAxis("left").setTicks([ticks[:: max(1, len(ticks) // 12)], []])
        self.plot_item.setLabel("bottom", "value")
        self.plot_item.setLabel("left", "step")
        self.plot_item.autoRange()

    def _series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The shown tag's histograms for CSV export: one column of fractions per step, by bin center."""
        if not self.matrix.size:
            return {}
        centers = (self.edges[:-1] + self.edges[1:]) / 2
        return {f"step {int(step)}": (centers, self.matrix[i]) for i, step in enumerate(self.steps)}
