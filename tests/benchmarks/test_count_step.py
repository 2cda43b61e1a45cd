"""`python -m benchmarks.count_step`: per-step counts that repeat exactly from run to run (a simulated clock)."""

from __future__ import annotations

import time

import pytest

from benchmarks import count_step
from benchmarks import run as runner
from benchmarks.profile_step import _linear


def _counts(config: str) -> dict[str, float]:
    workload, batches = _linear()
    per_step, rows = count_step.count(config, workload, batches, n_short=3, n_long=9, step_s=0.0022)
    assert rows and all(name.startswith("trainer_core") for _, _, name in rows)
    return per_step


@pytest.mark.slow  # about 45 s on 2 cores: twelve traced fits
def test_counts_repeat_exactly_and_show_what_the_features_cost() -> None:
    first, second = _counts("all on"), _counts("all on")
    assert first == second  # the bar's and the recorder's throttles follow the simulated clock, not the tracer
    default = _counts("default")
    assert 0 < default["engine calls"] < first["engine calls"]
    assert 0 < default["engine bytecodes"] < first["engine bytecodes"] <= first["all bytecodes"]
    assert time.monotonic is not count_step._Tally.monotonic  # the real clock is back


def test_the_runner_does_not_run_it_as_a_benchmark() -> None:
    assert "benchmarks.count_step" not in runner.discover()
