"""The metric grid's exports: a chart as a picture (its title and a key of its series drawn on it) or CSV, and every
metric's values as one CSV.

On screen the title and key sit in the chart's header, outside the plot, so a picture without them would be two
coloured lines and nothing saying which is which.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyqtgraph as pg

from studio.models.dashboards.report import series_csv
from studio.models.metric_store import MetricStore
from studio.models.smoothing import ema
from studio.qt.dashboards.common import export_plot
from studio.qt.metrics.chart import MetricChart, smooths

__all__ = ["report_caption", "titled_and_keyed", "write_chart", "write_metrics_csv"]


@contextmanager
def titled_and_keyed(chart: MetricChart) -> Iterator[None]:
    """While exporting a picture, give the plot the chart's title and a key of its shown series.

    On screen both sit in the chart's header, outside the plot: an exported "loss" PNG had a blue and an orange
    line and nothing saying which was val_loss.
    """
    plot = chart.plot
    shown = [(name, curve) for name, curve in chart.curves.items() if name not in chart.hidden]
    plot.setTitle(chart.chart.title)
    legend = None
    if len(shown) > 1 or (shown and shown[0][0] != chart.chart.title):
        legend = pg.LegendItem(offset=(-10, 10))
        legend.setParentItem(plot.getViewBox())
        for name, curve in shown:
            legend.addItem(curve.smooth, name)
    plot.layout.activate()  # lay the title row out now: exported at once, its text was cut at the top
    try:
        yield
    finally:
        plot.setTitle(None)
        plot.layout.activate()
        if legend is not None and legend.scene() is not None:
            legend.scene().removeItem(legend)  # also takes it off the view box (an anchored legend refuses no parent)


def report_caption(title: str, series: list[str]) -> str:
    """A chart's caption in a run report: its title and, when they differ from it, the full names of its series
    (a gradient-norm chart's title is only the layer: "net.0.weight"). The picture carries the colour key."""
    if len(series) == 1 and series[0] == title:
        return title
    return f"{title}: {', '.join(series)}"


def write_chart(chart: MetricChart, path: str) -> str:
    """Write ``chart`` as PNG/SVG (titled and keyed), or its raw and smoothed values as CSV, by ``path``'s suffix."""
    if Path(path).suffix.lower() == ".csv":
        Path(path).write_text(series_csv(chart.export_series(), x_name=chart.x_mode), encoding="utf-8")
        return path
    with titled_and_keyed(chart):
        return export_plot(chart.plot, path)


def write_metrics_csv(store: MetricStore, weight: float, path: str) -> str:
    """Every metric's raw values in named columns, and each smoothed series as the grid draws it beside its own."""
    columns: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in store.names():
        series = store.series(name)
        x, y = series.view()
        columns[name] = (x.copy(), y.copy())
        if smooths(name, series, weight):
            columns[f"{name} (smoothed {weight:.3g})"] = (x.copy(), ema(y, weight))
    Path(path).write_text(series_csv(columns), encoding="utf-8")
    return path
