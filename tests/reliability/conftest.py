"""Reliability test fixtures: the fault scripts, isolated studio settings/runs, and a leaked-process guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.processes import kill_all, live_children

SCRIPTS = Path(__file__).resolve().parent / "scripts"


@pytest.fixture(autouse=True)
def no_orphans():
    """Fail a test that leaves a child process behind (and kill it so later tests are not affected)."""
    before = live_children()
    yield
    leaked = live_children() - before
    kill_all(leaked)
    assert not leaked, f"test left child processes behind: {sorted(leaked)}"


@pytest.fixture(autouse=True)
def studio_env(tmp_path, monkeypatch):
    """Studio settings and runs live in the test's temporary folder, never the user's."""
    monkeypatch.setenv("TRAINING_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("TRAINING_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path


@pytest.fixture
def faulty() -> str:
    """Path of the fault-injecting model script."""
    return str(SCRIPTS / "faulty_model.py")


@pytest.fixture
def children():
    """The function listing this process's live child processes (for tests that check between runs)."""
    return live_children
