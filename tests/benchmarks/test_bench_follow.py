"""The follow-latency benchmark runs inside ``python -m benchmarks`` (``--only follow``; a few seconds in --quick)."""

from __future__ import annotations

import math

from benchmarks import run as runner
from benchmarks.bench_follow import LOCAL, SSH, TARGET_MS


def test_the_runner_finds_the_follow_benchmark() -> None:
    assert runner.discover(only=["follow"]) == ["benchmarks.bench_follow"]


def test_quick_follow_rows_measure_a_local_file_and_ssh(qapp) -> None:
    rows = runner.run_modules(["benchmarks.bench_follow"], quick=True, gpu=False, echo=False)
    assert [row["name"] for row in rows] == [f"follow latency, {LOCAL}", f"follow latency, {SSH}"]
    local, ssh = rows
    assert local["unit"] == "ms" and 0 <= local["ours"] < TARGET_MS, local
    assert "median of 10 events" in local["note"] and local["baseline"] == TARGET_MS
    assert not ssh["note"].startswith("error"), ssh
    assert math.isnan(ssh["ours"]) == ssh["note"].startswith("skipped"), "measured, or skipped with the reason"
