"""Shared pyqtgraph settings: the curve palette, readable tick labels and the runtime theme of every plot.

Live views draw without antialias at pen width 1. Axes never rescale values by an SI prefix: pyqtgraph's default
turns 0.82-0.92 into "820-920 (x0.001)", which users misread, so every studio plot uses :class:`ReadableAxis`
(real values, thousands separators, scientific notation only for very small or very large numbers). Plots made
through :func:`style_plot` follow the light/dark theme when it changes at runtime.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from studio.qt.theme import is_dark, on_theme_changed

__all__ = ["INTEGER_AXIS_LABELS", "PALETTE", "PlotColors", "ReadableAxis", "color_for", "configure_pyqtgraph",
           "format_tick", "plot_colors", "restyle_plot", "style_plot"]

# Colour-blind-friendly categorical colours (Okabe-Ito plus a few), readable on light and dark backgrounds.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#8C564B", "#7F7F7F",
           "#17BECF"]


@dataclass(frozen=True)
class PlotColors:
    """The colours of a plot's frame in one theme."""

    background: str
    foreground: str
    muted: str
    legend_fill: str


_LIGHT = PlotColors(background="#ffffff", foreground="#303030", muted="#808080", legend_fill="#ffffffd0")
_DARK = PlotColors(background="#1e1f22", foreground="#d0d0d0", muted="#9a9a9a", legend_fill="#1e1f22d0")


def plot_colors(dark: bool | None = None) -> PlotColors:
    """The plot colours of the dark or light theme (the current one when ``dark`` is None)."""
    return _DARK if (is_dark() if dark is None else dark) else _LIGHT


def color_for(index: int) -> str:
    """The palette colour for the ``index``-th series."""
    return PALETTE[index % len(PALETTE)]


def configure_pyqtgraph(dark: bool | None = None) -> None:
    """Global pyqtgraph options for live plotting (plots created afterwards start in these colours)."""
    colors = plot_colors(dark)
    pg.setConfigOptions(antialias=False, useOpenGL=False, background=colors.background,
                        foreground=colors.foreground, mouseRateLimit=60)


def format_tick(value: float, spacing: float) -> str:
    """A tick label showing the real value: ``0.85``, ``12,000``, ``3e-5``, ``2.5e+07``.

    ``spacing`` (the distance between neighbouring ticks) decides how many decimals tell the ticks apart.
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e6:
        places = max(0, math.ceil(-math.log10(abs(spacing)))) if spacing and math.isfinite(spacing) else 3
        return f"{value:,.{min(places, 8)}f}"
    mantissa, exponent = f"{value:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    sign, digits = exponent[0], exponent[1:].lstrip("0") or "0"
    return f"{mantissa}e{'-' if sign == '-' else ''}{digits}"


# Axis labels (their first word) that name a count: steps, epochs, sweep trials. Such an axis ticks whole numbers.
INTEGER_AXIS_LABELS = frozenset({"step", "epoch", "trial"})


class ReadableAxis(pg.AxisItem):
    """An axis whose tick labels are the real values (no SI-prefix scaling) in a readable format.

    On a log axis the labels are the values themselves (``0.001``, ``256``), and between decades only the 2x and
    5x ticks are kept so neighbouring labels never overlap.

    An axis labelled with a count (step, epoch, trial: see :data:`INTEGER_AXIS_LABELS`) ticks whole numbers only:
    a chart with one point at step 5 otherwise shows ticks 4.6 ... 5.4, and a reader takes them for steps.
    """

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def counts_whole_numbers(self) -> bool:
        """Whether this axis shows a count (its label names one), so only whole-number ticks make sense."""
        words = (self.labelText or "").strip().lower().split(" ")
        return not self.logMode and words[0] in INTEGER_AXIS_LABELS

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803
        levels = super().tickValues(minVal, maxVal, size)
        if not self.counts_whole_numbers():
            return levels
        whole = [(spacing, [v for v in values if abs(v - round(v)) < 1e-9]) for spacing, values in levels
                 if spacing >= 1 and abs(spacing - round(spacing)) < 1e-9]
        if any(values for _spacing, values in whole):
            return whole
        # Less than one unit in view (one point, or a deep zoom): tick the whole numbers inside it, if any.
        low, high = sorted((minVal, maxVal))
        return [(1.0, [float(n) for n in range(math.ceil(low), math.floor(high) + 1)])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.logMode:
            return self.logTickStrings(values, scale, spacing)
        return [format_tick(v * scale, spacing * scale) for v in values]

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        out = []
        for exponent in values:
            value = float(f"{float(10.0 ** exponent) * scale:.3g}")
            if 1e-3 <= value < 1e6:
                out.append(f"{value:,.6f}".rstrip("0").rstrip("."))  # 0.001, 0.02, 256, 1,024
            else:
                out.append(format_tick(value, value))
        return out

    def logTickValues(self, minVal: float, maxVal: float, size: float,  # noqa: N802, N803
                      stdTicks: list) -> list:  # noqa: N803
        ticks = [(spacing, t) for spacing, t in stdTicks if spacing >= 1.0]
        if len(ticks) >= 3:
            return ticks
        decades = max(maxVal - minVal, 1e-9)
        # Within one decade every 1..9 multiple fits; across several only 2x and 5x leave room for their labels.
        factors = np.arange(2, 10) if decades < 1.2 else np.array([2.0, 5.0])
        minor = [d + math.log10(f) for d in range(math.floor(minVal), math.ceil(maxVal)) for f in factors]
        ticks.append((None, [m for m in minor if minVal < m < maxVal]))
        return ticks


_THEMED: weakref.WeakSet[pg.PlotWidget] = weakref.WeakSet()


def _replace_axes(item: pg.PlotItem) -> None:
    """Swap ``item``'s left/bottom axes for readable ones, keeping their labels, log mode and visibility."""
    replacements = {}
    kept = {}
    for side in ("left", "bottom"):
        old = item.getAxis(side)
        if isinstance(old, ReadableAxis):
            continue
        kept[side] = (old.labelText, old.labelUnits, old.label.isVisible(), old.isVisible(), old.grid)
        replacements[side] = ReadableAxis(side)
    if not replacements:
        return
    log_x, log_y = item.ctrl.logXCheck.isChecked(), item.ctrl.logYCheck.isChecked()
    item.setAxisItems(replacements)
    for side, (text, units, label_visible, visible, grid) in kept.items():
        axis = item.getAxis(side)
        if label_visible:
            axis.setLabel(text, units=units)
        axis.setVisible(visible)
        axis.setGrid(grid)
    item.setLogMode(x=log_x, y=log_y)


def restyle_plot(widget: pg.PlotWidget, dark: bool | None = None) -> None:
    """Paint ``widget``'s background, axes, title and legend in the theme's colours."""
    colors = plot_colors(dark)
    widget.setBackground(colors.background)
    item = widget.getPlotItem()
    for side in ("left", "bottom", "right", "top"):
        axis = item.getAxis(side)
        axis.setPen(colors.foreground)
        axis.setTextPen(colors.foreground)
    title = item.titleLabel
    if title.text:
        title.setText(title.text, color=colors.foreground)
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(colors.foreground)
        for _sample, label in legend.items:
            label.setText(label.text, color=colors.foreground)  # setLabelTextColor alone does not re-render
        legend.setBrush(pg.mkBrush(colors.legend_fill))
        legend.setPen(pg.mkPen(colors.muted))
    for child in item.items:
        if isinstance(child, pg.TextItem):
            child.setColor(colors.muted)
            if child.fill.style() != Qt.BrushStyle.NoBrush:  # a label's backing follows the theme too
                child.fill = pg.mkBrush(colors.legend_fill)
                child.update()


def style_plot(widget: pg.PlotWidget) -> pg.PlotWidget:
    """Give ``widget`` readable axes and the current theme, and keep it in step with later theme changes."""
    _replace_axes(widget.getPlotItem())
    restyle_plot(widget)
    _THEMED.add(widget)
    return widget


def _on_theme(dark: bool) -> None:
    configure_pyqtgraph(dark)
    for widget in list(_THEMED):
        try:
            restyle_plot(widget, dark)
        except RuntimeError:  # the C++ side of a closed view is gone; nothing left to paint
            _THEMED.discard(widget)


on_theme_changed(_on_theme)
