"""Studio test fixtures: isolated settings/runs folders and a guard against leaked child processes and threads."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.helpers.processes import kill_all, live_children
from tests.helpers.studio_env import studio_env  # noqa: F401 - an autouse fixture, active by being here

SCRIPTS = Path(__file__).resolve().parent / "scripts"


@pytest.fixture(autouse=True)
def no_leaks():
    """Fail a test that leaves a child process or a Python thread behind."""
    threads_before = {t.ident for t in threading.enumerate()}
    children_before = live_children()
    yield
    leaked_children = live_children() - children_before
    kill_all(leaked_children)
    leaked_threads = [t.name for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()
                      and not t.name.startswith(("QueueFeederThread", "pydevd"))]
    assert not leaked_children, f"test left child processes behind: {sorted(leaked_children)}"
    assert not leaked_threads, f"test left threads behind: {leaked_threads}"


@pytest.fixture
def scripts() -> Path:
    """The folder of small model scripts used by the studio tests."""
    return SCRIPTS
