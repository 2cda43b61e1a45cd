"""Hypothesis settings for the fuzz and crash tests: a quick profile for every run, a long one for ``-m fuzz``.

The default test run gives each boundary a few hundred generated inputs (seconds each, derandomized so CI is
repeatable); ``pytest -m fuzz`` switches to the long profile (thousands per boundary, a fresh random seed each run).
``HYPOTHESIS_PROFILE=reliability-long`` forces the long profile whatever ``-m`` says.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

QUICK = "reliability-quick"
LONG = "reliability-long"

# Generated files are slow to build and check compared to Hypothesis's pure-Python defaults, so neither profile
# has a per-example deadline; the too_slow health check would otherwise trip on a loaded 2-core machine.
_COMMON: dict[str, Any] = {"deadline": None, "database": None,
                           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.function_scoped_fixture]}
settings.register_profile(QUICK, max_examples=200, derandomize=True, **_COMMON)
settings.register_profile(LONG, max_examples=3000, derandomize=False, **_COMMON)

_active = {"name": QUICK}


def choose_profile(markexpr: str) -> str:
    """Pick the long profile when the ``-m`` expression selects the fuzz marker (``-m fuzz``), else the quick one."""
    forced = os.environ.get("HYPOTHESIS_PROFILE")
    if forced in (QUICK, LONG):
        name = forced
    else:
        words = markexpr.replace("(", " ").replace(")", " ").split()
        selects_fuzz = any(word == "fuzz" and (i == 0 or words[i - 1] != "not") for i, word in enumerate(words))
        name = LONG if selects_fuzz else QUICK
    _active["name"] = name
    return name


def fuzz_settings(scale: float = 1.0, **overrides: Any) -> settings:
    """Settings of the active profile; ``scale`` shrinks or grows the example count for a costly boundary."""
    base = settings.get_profile(_active["name"])
    return settings(base, max_examples=max(10, int(base.max_examples * scale)), **overrides)


def is_long() -> bool:
    """Whether this run uses the long profile (the crash loops repeat more when it does)."""
    return _active["name"] == LONG
