"""Fixtures for widget tests: a main window whose runs are always cleaned up."""

from __future__ import annotations

import gc

import pytest


@pytest.fixture(autouse=True)
def collect_widgets_between_tests():
    """Collect the last test's widgets at a quiet moment, after it.

    Otherwise Python's collector may run in the middle of the next test's pyqtgraph set-up (a signal disconnect
    inside ``ViewBox.addItem``) and finalise Qt objects there; with PySide 6.10 that hung the process in 2 of 5
    runs of test_metrics_view.py followed by test_results_are_findable.py.
    """
    yield
    gc.collect()


@pytest.fixture
def make_window(qtbot):
    """Factory: ``make_window(path=None)`` builds the studio window (on the bundled example by default)."""
    from studio.app import create_window

    windows = []

    def make(path=None):
        window = create_window(path)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.session.shutdown()
        window.sweep_controller.shutdown()


@pytest.fixture
def window_with_views(make_window):
    """The studio window on the bundled example, with every dashboard built."""
    window = make_window()
    window.ensure_views()
    return window
