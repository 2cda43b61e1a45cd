"""The one-click run report: config, weights summary, profiler table, checkpoints, final metrics and PNGs of the
plots of the current run (the live one or the one opened from history)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers ImageExporter
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtWidgets import QWidget

from studio.models.dashboards.report import RunReport, readable_config, write_report
from studio.models.dashboards.tables import profiler_tables, summary_table
from studio.qt.dashboards.common import run_config
from studio.qt.status_view import predictions_path, weights_line
from studio.services.session import RunSession

__all__ = ["build_report", "plot_png"]


def plot_png(plot: pg.PlotItem, width: int = 1000) -> bytes:
    """A PNG of ``plot`` (rendered offscreen; works while the tab is hidden)."""
    exporter = pg.exporters.ImageExporter(plot)
    exporter.parameters()["width"] = width
    image = exporter.export(toBytes=True)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data.data())


def _pictures(window: Any) -> list[tuple[str, bytes]]:
    """(caption, PNG) of the plots worth a picture: the metric charts (titled and keyed) and the dashboards that
    have data."""
    out = []
    metrics_view = getattr(window, "metrics_view", None)
    if metrics_view is not None:
        out.extend((f"Metrics: {caption}", png) for caption, png in metrics_view.report_images(plot_png))
    for view in getattr(window, "dashboard_views", {}).values():
        for caption, plot, has_data in getattr(view, "report_plots", lambda: [])():
            if has_data:
                out.append((caption, plot_png(plot)))
    return out


def _duration(session: RunSession) -> str:
    """One duration for the run: the training process's own (start of the run to its final event) when it
    reported it, else the time the studio saw the run take (process start and exit included)."""
    finished = session.model.extras.get("run_finished") or []
    reported = finished[-1].get("duration_s") if finished else None
    if isinstance(reported, (int, float)):
        return f"{reported:.1f} s (the run, as the training process measured it)"
    elapsed = session.model.elapsed_s()
    return f"{elapsed:.1f} s (as the studio saw it, process start included)" if elapsed is not None else "?"


def _result_facts(model: Any) -> list[tuple[str, str]]:
    """What the run used and made that a reader looks for: the weights an evaluation used, the fit's best and last
    checkpoints, a Predict run's saved predictions (a report of a Validate run did not say whose weights it scored).
    """
    facts = []
    weights = weights_line(model.mode, model.extras.get("run_started") or [])
    if weights:
        facts.append(("Weights evaluated", weights.removeprefix("weights: ")))
    result = model.result or {}
    for key, label in (("best_checkpoint", "Best checkpoint"), ("last_checkpoint", "Last checkpoint")):
        if result.get(key):
            facts.append((label, str(result[key])))
    predictions = predictions_path(result)
    if predictions:
        facts.append(("Predictions", f"{predictions} (load with torch.load)"))
    return facts


def build_report(session: RunSession, window: QWidget | None, path: str | os.PathLike[str]) -> Path:
    """Write the report of ``session``'s run to ``path`` (.html or .md); returns the path written."""
    model = session.model
    report = RunReport(f"Run report: {Path(model.log_dir).name if model.log_dir else model.run_id or 'run'}")
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(model.started_at)) if model.started_at else "?"
    report.facts = [("Status", f"{model.status}" + (f" ({model.reason})" if model.reason else "")),
                    ("Mode", str(model.mode or "?")), ("Started", started),
                    ("Duration", _duration(session)),
                    ("Run folder", str(model.log_dir or "?")), ("Run id", str(model.run_id or "?"))]
    report.facts.extend(_result_facts(model))
    report.config = readable_config(run_config(session))
    report.metrics = dict(sorted(model.latest.items()))
    summary = summary_table(model.extras.get("model_summary") or [])
    if summary.rows:
        report.tables.append(summary)
    for table in profiler_tables(model.extras.get("profiler_report") or []):
        if not table.rows:
            continue  # a stage the profiler reported nothing for
        table.rows = table.rows[:25]
        table.title = f"Profiler ({table.title}, top 25 by total time)"
        report.tables.append(table)
    if window is not None:
        report.images.extend(_pictures(window))
        metrics_view = getattr(window, "metrics_view", None)
        if metrics_view is not None and metrics_view.weight > 0 and report.images:
            report.facts.append(("Metric pictures", f"bold lines are smoothed (EMA {metrics_view.weight:.2g}), "
                                                    "the faint line under one is its raw values"))
    return write_report(report, path)
