"""Fixtures for widget tests: a main window whose runs are always cleaned up."""

from __future__ import annotations

import pytest


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
