"""Parallel coordinates: one vertical axis per hyper-parameter and a last one for the chosen metric; one line per
run, coloured by that metric, so the settings that lead to good runs stand out.

Numeric axes are scaled from their minimum (bottom) to maximum (top) and labelled with both; text or boolean
values are spread evenly, each labelled. A run missing a value has no point on that axis (its line breaks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from studio.qt.plot_style import format_tick, plot_colors, style_plot

__all__ = ["Axis", "ParallelCoordinatesView", "build_axes"]

_NAMED_RUNS = 12
# Distinct line colours from the lowest to the highest metric value (lines of one colour are drawn as one item).
_COLOR_LEVELS = 16


# Axis value labels draw above the run lines (plot items default to z 0).
VALUE_LABEL_Z = 10


@dataclass
class Axis:
    """One vertical axis: its name, each run's position in [0, 1] (NaN: no value) and its tick labels."""

    name: str
    positions: list[float]
    labels: list[tuple[float, str]]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def _value_label(value: float) -> str:
    """``0.1``, ``16``, ``7.252``, ``1e-5``: four significant digits, no padding zeros."""
    return f"{value:,.4g}" if value == 0 or 1e-3 <= abs(value) < 1e6 else format_tick(value, abs(value))


def build_axes(columns: list[tuple[str, list[Any]]], log_axes: frozenset[str] | set[str] = frozenset()) -> list[Axis]:
    """Axes for (name, one value per run) columns; columns with no value at all are left out.

    A column named in ``log_axes`` whose values are all positive is placed on a log scale (a learning rate sampled
    from 1e-4 to 1e-1 would otherwise crowd at the bottom); its labels still show the real values.
    """
    axes = []
    for name, values in columns:
        present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
        if not present:
            continue
        if all(_is_number(v) for v in present):
            low, high = min(float(v) for v in present), max(float(v) for v in present)
            span = high - low
            if name in log_axes and low > 0 and span > 0:
                log_low, log_span = math.log10(low), math.log10(high) - math.log10(low)
                positions = [math.nan if not _is_number(v) or float(v) <= 0 else
                             (math.log10(float(v)) - log_low) / log_span for v in values]
                labels = [(0.0, format_tick(low, low / 10)), (1.0, format_tick(high, high / 10))]
                axes.append(Axis(f"{name} (log)", positions, labels))
                continue
            positions = [math.nan if not _is_number(v) else (0.5 if span == 0 else (float(v) - low) / span)
                         for v in values]
            # One value for every run: its label where the lines cross the axis (at the bottom, under lines drawn
            # through the middle, "64" read as the axis' low end with the runs above it).
            labels = [(0.0, _value_label(low)), (1.0, _value_label(high))] if span else [(0.5, _value_label(low))]
            axes.append(Axis(name, positions, labels))
        else:
            categories = sorted({str(v) for v in present})
            step = 1.0 / max(1, len(categories) - 1)
            where = {c: (0.5 if len(categories) == 1 else i * step) for i, c in enumerate(categories)}
            positions = [where[str(v)] if v is not None else math.nan for v in values]
            axes.append(Axis(name, positions, [(where[c], c) for c in categories]))
    return axes


class ParallelCoordinatesView(pg.PlotWidget):
    """The parallel-coordinates plot of the ticked runs (hyper-parameters, then the metric)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style_plot(self)
        self.plot_item = self.getPlotItem()
        self.plot_item.hideAxis("left")
        self.plot_item.hideAxis("bottom")
        self.plot_item.setMouseEnabled(x=False, y=False)
        self.plot_item.setMenuEnabled(False)
        self.plot_item.hideButtons()
        self.axes: list[Axis] = []
        self.run_names: list[str] = []
        self._items: list[Any] = []
        # Run names at the line ends (their line's end height, label) and the axis titles: placed in pixels by
        # _place_text, so they neither overlap nor leave the plot on a short chart (about 180 px at 1280x720).
        self._names: list[tuple[float, pg.TextItem]] = []
        self._titles: list[pg.TextItem] = []
        self._right = 1.0
        self.message = pg.TextItem("", anchor=(0.5, 0.5))
        self.plot_item.addItem(self.message)

    def set_runs(self, run_names: list[str], hparams: list[tuple[str, list[Any]]],
                 metric: tuple[str, list[Any]] | None, *, log_axes: frozenset[str] | set[str] = frozenset()) -> None:
        """Draw one line per run through its hyper-parameter values and ``metric`` (name, value per run);
        hyper-parameters named in ``log_axes`` on a log scale."""
        for item in self._items:
            self.plot_item.removeItem(item)
        self._items.clear()
        self._names.clear()
        self._titles.clear()
        self.run_names = list(run_names)
        columns = list(hparams) + ([metric] if metric is not None else [])
        self.axes = build_axes(columns, log_axes)
        colors = plot_colors()
        if not run_names or not self.axes:
            self.message.setText("Tick runs in the table to compare their hyper-parameters against a metric"
                                 if not run_names else "The ticked runs have no hyper-parameters or metric values")
            self.message.setColor(colors.muted)
            self.message.setPos(0.5, 0.5)
            self.message.setVisible(True)
            self.plot_item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        self.message.setVisible(False)
        metric_axis = self.axes[-1] if metric is not None and self.axes[-1].name == metric[0] else None
        # Blue (lowest metric) to orange (highest): both ends stay visible on the light and the dark background.
        cmap = pg.ColorMap([0.0, 1.0], ["#0072B2", "#E69F00"])
        xs = np.arange(len(self.axes), dtype=np.float64)
        names: list[tuple[float, str, Any]] = []
        # Lines of (nearly) the same colour share one curve item, broken by NaN between runs: 50 trials then cost a
        # handful of items to build instead of 50 (a rebuild per second must stay far below a frame).
        buckets: dict[int, list[np.ndarray]] = {}
        for row, run_name in enumerate(run_names):
            ys = np.array([axis.positions[row] for axis in self.axes], dtype=np.float64)
            level = metric_axis.positions[row] if metric_axis is not None else 0.5
            bucket = round((0.5 if math.isnan(level) else level) * (_COLOR_LEVELS - 1))
            buckets.setdefault(bucket, []).append(ys)
            if len(run_names) <= _NAMED_RUNS and not math.isnan(ys[-1]):
                names.append((float(ys[-1]), run_name, cmap.map(bucket / (_COLOR_LEVELS - 1), mode="qcolor")))
        gap = np.array([np.nan])
        for bucket, lines in buckets.items():
            color = cmap.map(bucket / (_COLOR_LEVELS - 1), mode="qcolor")
            all_x = np.concatenate([part for _ in lines for part in (xs, gap)])
            all_y = np.concatenate([part for ys in lines for part in (ys, gap)])
            curve = pg.PlotCurveItem(all_x, all_y, pen=pg.mkPen(color, width=2), connect="finite")
            self.plot_item.addItem(curve)
            self._items.append(curve)
        # A few runs are named at the end of their line, so each line can be told apart; names of runs ending at
        # the same height are moved apart instead of printed over each other (see _place_text).
        for y, run_name, color in sorted(names, key=lambda item: item[0]):
            label = pg.TextItem(run_name, color=color, anchor=(0.0, 0.5))
            self.plot_item.addItem(label)
            self._items.append(label)
            self._names.append((y, label))
        for index, axis in enumerate(self.axes):
            line = pg.InfiniteLine(pos=index, angle=90, movable=False, pen=pg.mkPen(colors.foreground, width=1))
            self.plot_item.addItem(line, ignoreBounds=True)
            self._items.append(line)
            title = pg.TextItem(axis.name, color=colors.foreground, anchor=(0.5, 1.0))
            self.plot_item.addItem(title)
            self._items.append(title)
            self._titles.append(title)
            last = index == len(self.axes) - 1
            for position, text in axis.labels:
                # The last axis's values sit on its left: its right side holds the run names.
                # Above the lines, on a backing of the plot's colour: drawn under them, the end values (the
                # "64" where a bundle of lines meets the top of an axis) were unreadable.
                label = pg.TextItem(text, color=colors.muted, anchor=(1.0, 0.5) if last else (0.0, 0.5),
                                    fill=pg.mkBrush(colors.legend_fill))
                label.setZValue(VALUE_LABEL_Z)
                label.setPos(index - 0.03 if last else index + 0.03, position)
                self.plot_item.addItem(label)
                self._items.append(label)
        self._right = len(self.axes) - 1 + (1.4 if len(run_names) <= _NAMED_RUNS else 0.3)
        self._place_text()

    def _place_text(self) -> None:
        """Fit the y range and the titles and run names to the plot's height in pixels."""
        if not getattr(self, "_titles", None):  # also called by a resize during construction
            return
        box = self.plot_item.getViewBox()
        height = max(60.0, float(box.height() if box is not None and box.height() > 0 else self.height()))
        # Text items keep their pixel size whatever the range: one line's height, padding included.
        line = max(item.boundingRect().height() for item in [*self._titles, *(label for _, label in self._names)])
        # The values span [0, 1]; below them half a line (the lowest run name is centred on its value), above
        # them half a line (the top value labels, centred too), a line for the titles and 2 px.
        bottom_px, top_px = line / 2 + 4.0, 1.5 * line + 2.0
        per_px = 1.0 / max(1.0, height - bottom_px - top_px)  # data units per pixel
        for index, title in enumerate(self._titles):
            title.setPos(index, 1.0 + line / 2 * per_px)  # the title's bottom edge, over the top value label
        floor = -math.inf
        for y, label in self._names:
            floor = max(y, floor + (line + 1.0) * per_px)
            label.setPos(len(self._titles) - 1 + 0.08, floor)
        self.plot_item.setRange(xRange=(-0.45, self._right), yRange=(-bottom_px * per_px, 1.0 + top_px * per_px),
                                padding=0)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.isVisible():  # not while being built or torn down (the view box may be gone)
            self._place_text()
