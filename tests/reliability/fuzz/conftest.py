"""Fuzz tests run with the Hypothesis profile the ``-m`` expression asks for (``-m fuzz``: the long one)."""

from __future__ import annotations

import pytest

from tests.reliability.fuzz.fuzzing import choose_profile


def pytest_configure(config: pytest.Config) -> None:
    choose_profile(config.getoption("markexpr") or "")
