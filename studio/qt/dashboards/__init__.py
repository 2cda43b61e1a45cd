"""Dashboard tabs of the main window: Gradients, Images, Distributions, Learning rate, LR finder, Batch size, GPU and
system, Weights, Profiler, Checkpoints and Runs (history, overlay, compare, report).

The main window calls :func:`create_views` at start-up (``MainWindow._load_dashboards``). Every view reads the
session's run model and redraws on the session clock only while visible, so a replayed ``events.jsonl`` and a live
run look the same.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from studio.services.session import RunSession

__all__ = ["create_views", "VIEW_TITLES"]

VIEW_TITLES = ("Gradients", "Images", "Distributions", "Learning rate", "LR finder", "Batch size", "GPU and system",
               "Weights", "Profiler", "Checkpoints", "Runs")


def create_views(session: RunSession, *, runs_root: str | None = None) -> list[tuple[str, QWidget]]:
    """Build every dashboard view for ``session``; returns ``(tab title, widget)`` pairs in display order.

    Views only read the session and emit signals (an applied learning rate or batch size, a warning); the window
    that hosts them connects those signals, so no view reaches into the window or another view.

    Args:
        session: the run session every view reads.
        runs_root: the folder the Runs tab lists (the studio's runs folder).
    """
    from studio.qt.dashboards.distributions_view import DistributionsView
    from studio.qt.dashboards.gradients_view import GradientsView
    from studio.qt.dashboards.history_view import HistoryView
    from studio.qt.dashboards.images_view import ImagesView
    from studio.qt.dashboards.lr_view import LearningRateView
    from studio.qt.dashboards.system_view import SystemView
    from studio.qt.dashboards.tables_views import CheckpointsView, ProfilerView, SummaryView
    from studio.qt.dashboards.tuner_views import BatchFinderView, LrFinderView

    return [
        ("Gradients", GradientsView(session)),
        ("Images", ImagesView(session)),
        ("Distributions", DistributionsView(session)),
        ("Learning rate", LearningRateView(session)),
        ("LR finder", LrFinderView(session)),
        ("Batch size", BatchFinderView(session)),
        ("GPU and system", SystemView(session)),
        ("Weights", SummaryView(session)),
        ("Profiler", ProfilerView(session)),
        ("Checkpoints", CheckpointsView(session)),
        ("Runs", HistoryView(session, root=runs_root)),
    ]
