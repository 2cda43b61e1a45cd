"""Fixtures of the dashboard tests: the recorded runs, a session replaying them, and a main window."""

from __future__ import annotations

import shutil

import pytest
from dashboard_helpers import FIT_RUN, TUNE_RUN


@pytest.fixture
def fit_events():
    """The recorded fit run's events (grad norms, LR monitor, profiler, checkpoints, weights summary)."""
    from studio.models.run_state import load_events

    return load_events(FIT_RUN / "events.jsonl")


@pytest.fixture
def tune_events():
    """The recorded tune run's events (batch-size trials, LR finder points, run_finished with the results)."""
    from studio.models.run_state import load_events

    return load_events(TUNE_RUN / "events.jsonl")


@pytest.fixture
def session(qtbot):
    """A RunSession without a window (views are built on it directly)."""
    from studio.services.session import RunSession

    session = RunSession()
    yield session
    session.shutdown()


@pytest.fixture
def runs_root(tmp_path):
    """A root holding both recorded runs as lightning_logs/version_0 and version_1."""
    root = tmp_path / "root"
    for number, source in enumerate((FIT_RUN, TUNE_RUN)):
        target = root / "lightning_logs" / f"version_{number}"
        target.mkdir(parents=True)
        shutil.copy(source / "events.jsonl", target / "events.jsonl")
    return root


@pytest.fixture
def window(qtbot):
    """The studio main window on the bundled example, with every view built."""
    from studio.app import create_window

    window = create_window()
    qtbot.addWidget(window)
    window.ensure_views()
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.session.shutdown()
