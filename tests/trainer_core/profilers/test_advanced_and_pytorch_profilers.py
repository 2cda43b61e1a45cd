"""AdvancedProfiler (cProfile per action) and PyTorchProfiler (torch.profiler + Chrome trace), kept tiny."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.profilers import AdvancedProfiler, PyTorchProfiler


def _busy_sort() -> list[int]:
    return sorted(range(2000), key=lambda x: -x)


def test_advanced_rows_and_stats_per_action() -> None:
    ticks = iter([-5.0, 0.0, 1.0, 2.0, 4.0, 7.0, 10.0])  # construction, setup, 4 start/stop, report
    profiler = AdvancedProfiler(clock=lambda: next(ticks))
    profiler.setup("fit")  # 0.0
    with profiler.profile("outer"):  # 1.0 .. 7.0
        with profiler.profile("inner"):  # 2.0 .. 4.0
            _busy_sort()
    rows = profiler.report_rows()  # 10.0
    assert [(r["action"], r["num_calls"], r["total_s"], r["percent"]) for r in rows] == [
        ("outer", 1, 6.0, 60.0),
        ("inner", 1, 2.0, 20.0),
    ]
    # The sort ran inside "inner"; the outer profile was paused meanwhile (one cProfile active at a time).
    assert "sorted" in profiler.action_stats("inner")
    assert "sorted" not in profiler.action_stats("outer")


def test_advanced_summary_and_line_restriction(tmp_path: Path) -> None:
    profiler = AdvancedProfiler(dirpath=tmp_path, filename="adv", line_count_restriction=3)
    profiler.setup("test")
    for _ in range(2):
        with profiler.profile("test_step"):
            _busy_sort()
    profiler.describe()
    text = (tmp_path / "test-adv.txt").read_text()
    assert text.startswith("TEST Profiler Report")
    assert "Profile stats for: test_step" in text
    assert "due to restriction <3>" in text
    assert profiler.report_rows()[0]["num_calls"] == 2


def test_advanced_errors() -> None:
    profiler = AdvancedProfiler()
    with pytest.raises(ValueError, match="never started"):
        profiler.stop("a")
    profiler.start("a")
    with pytest.raises(ValueError, match="started twice"):
        profiler.start("a")
    profiler.teardown()
    with pytest.raises(ValueError, match="line_count_restriction"):
        AdvancedProfiler(line_count_restriction=0)


def test_pytorch_profiler_exports_chrome_trace_and_table(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    profiler = PyTorchProfiler(dirpath=tmp_path, filename="torch", row_limit=5, sort_by_key="cpu_time_total")
    profiler.setup("fit")
    profiler.register_module(model)
    for _ in range(6):  # wait 1 + warmup 1 + active 3, then one step outside the window
        with profiler.profile("training_step"):
            with profiler.profile("backward"):
                model(torch.randn(2, 4)).sum().backward()
    profiler.describe()
    trace = tmp_path / "fit-torch.pt.trace.json"
    assert profiler.trace_paths == [str(trace)]
    names = {event.get("name") for event in json.loads(trace.read_text())["traceEvents"]}
    assert {"training_step", "backward", "torch.nn.modules.linear.Linear: 0"} <= names
    report = (tmp_path / "fit-torch.txt").read_text()
    assert report.startswith("FIT Profiler Report") and "training_step" in report
    rows = {row["action"]: row for row in profiler.report_rows()}
    assert rows["training_step"]["num_calls"] == 3  # only the active window is recorded
    assert set(rows["training_step"]) >= {"action", "mean_s", "num_calls", "total_s", "percent"}
    assert 0 < rows["training_step"]["percent"] <= 100.0
    profiler.teardown("fit")


def test_pytorch_profiler_too_few_steps_says_so(tmp_path: Path) -> None:
    profiler = PyTorchProfiler(dirpath=tmp_path, export_to_chrome=False)
    profiler.setup("validate")
    with profiler.profile("validation_step"):
        pass
    assert "No steps were profiled" in profiler.summary()
    assert profiler.report_rows() == []
    assert not os.listdir(tmp_path)


def test_pytorch_profiler_argument_errors() -> None:
    with pytest.raises(MisconfigurationError, match="sort_by_key"):
        PyTorchProfiler(sort_by_key="wall_time")
    with pytest.raises(ValueError, match="never started"):
        PyTorchProfiler().stop("training_step")


def test_pytorch_profiler_steps_once_for_nested_dispatcher_names(tmp_path: Path) -> None:
    profiler = PyTorchProfiler(dirpath=tmp_path, filename="nested")
    profiler.setup("fit")
    for _ in range(5):
        with profiler.profile("training_step"), profiler.profile("[LightningModule]Net.training_step"):
            torch.ones(3).sum()
    profiler.teardown("fit")
    rows = {row["action"]: row["num_calls"] for row in profiler.report_rows()}
    assert rows["training_step"] == 3  # wait 1 + warmup 1, then 3 recorded steps: one step per outer action
    assert rows["[LightningModule]Net.training_step"] == 3


def test_passthrough_flag_lets_the_trainer_skip_wrapping() -> None:
    from trainer_core.profilers import PassThroughProfiler, SimpleProfiler

    assert PassThroughProfiler.is_passthrough and not SimpleProfiler.is_passthrough


def test_pytorch_profiler_report_survives_hooks_after_describe(tmp_path: Path) -> None:
    profiler = PyTorchProfiler(dirpath=tmp_path, filename="later")
    profiler.setup("fit")
    with profiler.profile("run_training_epoch"):
        for _ in range(5):
            with profiler.profile("training_step"):
                torch.ones(2).sum()
        profiler.describe()  # the report is taken while an outer action is still open
    with profiler.profile("[Callback]Printer.teardown"):  # hooks after the report do not restart profiling
        pass
    profiler.teardown("fit")
    actions = {row["action"] for row in profiler.report_rows()}
    assert "training_step" in actions and "[Callback]Printer.teardown" not in actions
    profiler.setup("test")  # the next stage starts fresh
    assert profiler.report_rows() == []
