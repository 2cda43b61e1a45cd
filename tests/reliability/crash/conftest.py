"""Crash loops repeat more under ``-m fuzz`` (the long profile), a few times in the default run."""

from __future__ import annotations

import pytest

from tests.reliability.fuzz.fuzzing import choose_profile


def pytest_configure(config: pytest.Config) -> None:
    choose_profile(config.getoption("markexpr") or "")
