"""Dashboard tabs of the main window: Gradients, Learning rate, LR finder, Batch size, GPU and system, Weights,
Profiler, Checkpoints and Runs (history, overlay, compare, report).

The main window calls :func:`create_views` at start-up (``MainWindow._load_dashboards``). Every view reads the
session's run model and redraws on the session clock only while visible, so a replayed ``events.jsonl`` and a live
run look the same.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget

from studio.services.session import RunSession

__all__ = ["create_views", "VIEW_TITLES"]

VIEW_TITLES = ("Gradients", "Learning rate", "LR finder", "Batch size", "GPU and system", "Weights", "Profiler",
               "Checkpoints", "Runs")


def create_views(session: RunSession) -> list[tuple[str, QWidget]]:
    """Build every dashboard view for ``session``; returns ``(tab title, widget)`` pairs in display order."""
    from studio.qt.dashboards.common import host_window
    from studio.qt.dashboards.gradients_view import GradientsView
    from studio.qt.dashboards.history_view import HistoryView
    from studio.qt.dashboards.lr_view import LearningRateView
    from studio.qt.dashboards.system_view import SystemView
    from studio.qt.dashboards.tables_views import CheckpointsView, ProfilerView, SummaryView
    from studio.qt.dashboards.tuner_views import BatchFinderView, LrFinderView

    window: Any = host_window(session)
    root = None
    if window is not None and hasattr(window, "settings"):
        root = str(window.settings.runs_dir())
    views: list[tuple[str, QWidget]] = [
        ("Gradients", GradientsView(session)),
        ("Learning rate", LearningRateView(session)),
        ("LR finder", LrFinderView(session)),
        ("Batch size", BatchFinderView(session)),
        ("GPU and system", SystemView(session)),
        ("Weights", SummaryView(session)),
        ("Profiler", ProfilerView(session)),
        ("Checkpoints", CheckpointsView(session)),
        ("Runs", HistoryView(session, root=root)),
    ]
    if window is not None:
        # The report and the tests find the views here; the window itself needs nothing else.
        window.dashboard_views = dict(views)
        session.run_started.connect(lambda mode: _follow_tuner(window, mode))
    return views


def _follow_tuner(window: Any, mode: str) -> None:
    """A Tune run shows its finder live (the window brings the metrics tab forward for other modes)."""
    if mode != "tune":
        return
    from PySide6.QtCore import QTimer

    def show() -> None:
        request = getattr(window.session, "last_request", {}) or {}
        tune = (request.get("spec") or {}).get("tune") or {}
        title = "Batch size" if tune.get("scale_batch_size") and not tune.get("lr_find") else "LR finder"
        window.views.setCurrentWidget(window.dashboard_views[title])

    QTimer.singleShot(0, show)
