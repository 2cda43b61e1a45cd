"""Fuzz tests run with the Hypothesis profile the ``-m`` expression asks for (``-m fuzz``: the long one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.fuzz.fuzzing import choose_profile, is_long


def pytest_configure(config: pytest.Config) -> None:
    choose_profile(config.getoption("markexpr") or "")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long profile runs for many minutes per test: lift the suite's per-test timeout for this folder."""
    if not is_long():
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if here in item.path.resolve().parents:
            item.add_marker(pytest.mark.timeout(3600))
