"""Reliability test fixtures: the fault scripts, isolated studio settings/runs, a leaked-process guard, and the
Hypothesis profile of the fuzz and crash tests (``-m fuzz``: the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.processes import kill_all, live_children
from tests.helpers.studio_env import studio_env  # noqa: F401 - an autouse fixture, active by being here
from tests.reliability.fuzz.fuzzing import choose_profile, is_long

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def pytest_configure(config: pytest.Config) -> None:
    # Before the fuzz modules are imported: their @settings read the profile at import time.
    choose_profile(config.getoption("markexpr") or "")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long profile runs for many minutes per test: lift the suite's per-test timeout for the fuzz tests."""
    if not is_long():
        return
    for item in items:
        if item.get_closest_marker("fuzz") is not None:
            item.add_marker(pytest.mark.timeout(3600))


@pytest.fixture(autouse=True)
def no_orphans():
    """Fail a test that leaves a child process behind (and kill it so later tests are not affected)."""
    before = live_children()
    yield
    leaked = live_children() - before
    kill_all(leaked)
    assert not leaked, f"test left child processes behind: {sorted(leaked)}"


@pytest.fixture
def faulty() -> str:
    """Path of the fault-injecting model script."""
    return str(SCRIPTS / "faulty_model.py")


@pytest.fixture
def children():
    """The function listing this process's live child processes (for tests that check between runs)."""
    return live_children
