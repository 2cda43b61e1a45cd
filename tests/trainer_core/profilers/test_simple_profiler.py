"""SimpleProfiler with a controllable clock: durations, errors, report columns and order, file naming."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trainer_core.exceptions import MisconfigurationError
from trainer_core.profilers import (
    AdvancedProfiler,
    PassThroughProfiler,
    Profiler,
    PyTorchProfiler,
    SimpleProfiler,
    profiler_from_flag,
)


class FakeClock:
    """Time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _run(profiler: SimpleProfiler, clock: FakeClock, action: str, seconds: float) -> None:
    with profiler.profile(action):
        clock.advance(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_durations_counts_and_percentages(clock: FakeClock) -> None:
    profiler = SimpleProfiler(clock=clock)
    profiler.setup("fit")
    _run(profiler, clock, "training_step", 1.0)
    _run(profiler, clock, "training_step", 3.0)
    _run(profiler, clock, "backward", 5.0)
    clock.advance(1.0)  # time outside any action still counts in the total
    rows = profiler.report_rows()
    assert rows == [
        {"action": "backward", "mean_s": 5.0, "num_calls": 1, "total_s": 5.0, "percent": 50.0},
        {"action": "training_step", "mean_s": 2.0, "num_calls": 2, "total_s": 4.0, "percent": 40.0},
    ]
    assert profiler.total_duration == 10.0
    assert profiler.stats == {"training_step": (2, 4.0), "backward": (1, 5.0)}


def test_nested_actions_each_count_in_full(clock: FakeClock) -> None:
    profiler = SimpleProfiler(clock=clock)
    with profiler.profile("run_training_batch"):
        clock.advance(1.0)
        _run(profiler, clock, "training_step", 2.0)
    totals = {row["action"]: row["total_s"] for row in profiler.report_rows()}
    assert totals == {"run_training_batch": 3.0, "training_step": 2.0}


def test_double_start_and_stray_stop_raise(clock: FakeClock) -> None:
    profiler = SimpleProfiler(clock=clock)
    profiler.start("a")
    with pytest.raises(ValueError, match="started twice"):
        profiler.start("a")
    profiler.stop("a")
    with pytest.raises(ValueError, match="never started"):
        profiler.stop("a")
    with pytest.raises(ValueError, match="never started"):
        profiler.stop("b")


def test_action_stopped_when_body_raises(clock: FakeClock) -> None:
    profiler = SimpleProfiler(clock=clock)
    with pytest.raises(RuntimeError), profiler.profile("boom"):
        clock.advance(2.0)
        raise RuntimeError("user code failed")
    assert profiler.stats == {"boom": (1, 2.0)}
    profiler.start("boom")  # not left running


def test_profile_iterable_times_each_fetch(clock: FakeClock) -> None:
    profiler = SimpleProfiler(clock=clock)

    def batches():
        for i in range(3):
            clock.advance(0.5)
            yield i

    assert list(profiler.profile_iterable(batches(), "get_train_batch")) == [0, 1, 2]
    assert profiler.stats == {"get_train_batch": (4, 1.5)}  # 3 batches + the final StopIteration


def test_extended_report_layout(clock: FakeClock) -> None:
    profiler = SimpleProfiler(clock=clock)
    profiler.setup("fit")
    _run(profiler, clock, "training_step", 1.0)
    _run(profiler, clock, "training_step", 2.0)
    _run(profiler, clock, "run_training_epoch", 6.0)
    clock.advance(3.0)
    lines = profiler.summary().splitlines()
    assert lines[0] == "FIT Profiler Report"
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    assert cells[0] == ["Action", "Mean duration (s)", "Num calls", "Total time (s)", "Percentage %"]
    assert cells[1] == ["Total", "-", "3", "12.0", "100 %"]
    assert cells[2] == ["run_training_epoch", "6.0", "1", "6.0", "50.0"]
    assert cells[3] == ["training_step", "1.5", "2", "3.0", "25.0"]
    rules = [line for line in lines if line.startswith("-")]
    assert len(rules) == 4 and all(len(rule) == len(lines[3]) for rule in rules)


def test_plain_report_layout(clock: FakeClock) -> None:
    profiler = SimpleProfiler(extended=False, clock=clock)
    profiler.setup("test")
    _run(profiler, clock, "test_step", 0.25)
    lines = profiler.summary().splitlines()
    assert lines[0] == "TEST Profiler Report"
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    assert cells == [["Action", "Mean duration (s)", "Total time (s)"], ["test_step", "0.25", "0.25"]]


def test_setup_starts_a_fresh_report(clock: FakeClock) -> None:
    profiler = SimpleProfiler(clock=clock)
    profiler.setup("fit")
    _run(profiler, clock, "training_step", 1.0)
    profiler.setup("test")
    _run(profiler, clock, "test_step", 1.0)
    assert [row["action"] for row in profiler.report_rows()] == ["test_step"]
    assert profiler.total_duration == 1.0


def test_describe_writes_stage_file_in_dirpath(clock: FakeClock, tmp_path: Path) -> None:
    profiler = SimpleProfiler(dirpath=tmp_path / "prof", filename="perf", clock=clock)
    profiler.setup("fit", local_rank=None, log_dir=str(tmp_path / "run"))
    _run(profiler, clock, "training_step", 1.0)
    profiler.describe()
    path = tmp_path / "prof" / "fit-perf.txt"
    assert profiler.report_path() == str(path)
    assert path.read_text().startswith("FIT Profiler Report")


def test_describe_defaults_to_log_dir_and_rank_suffix(clock: FakeClock, tmp_path: Path) -> None:
    profiler = SimpleProfiler(filename="perf", clock=clock)
    profiler.setup("validate", local_rank=0, log_dir=str(tmp_path))
    assert profiler.report_path() == str(tmp_path / "validate-perf.txt")
    profiler.setup("validate", local_rank=2, log_dir=str(tmp_path))
    assert profiler.report_path() == str(tmp_path / "validate-perf-2.txt")


def test_describe_prints_without_filename(clock: FakeClock, capsys: pytest.CaptureFixture[str]) -> None:
    profiler = SimpleProfiler(clock=clock)
    profiler.setup("fit")
    _run(profiler, clock, "training_step", 1.0)
    profiler.describe()
    assert "FIT Profiler Report" in capsys.readouterr().out


def test_passthrough_records_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    profiler = PassThroughProfiler(dirpath=tmp_path, filename="x")
    with profiler.profile("a"), profiler.profile("a"):
        pass
    profiler.start("b")
    profiler.stop("c")
    profiler.describe()
    assert profiler.report_rows() == [] and profiler.summary() == ""
    assert capsys.readouterr().out == "" and not os.listdir(tmp_path)


def test_profiler_from_flag() -> None:
    assert isinstance(profiler_from_flag(None), PassThroughProfiler)
    assert isinstance(profiler_from_flag("Simple"), SimpleProfiler)
    assert isinstance(profiler_from_flag("advanced"), AdvancedProfiler)
    assert isinstance(profiler_from_flag("pytorch"), PyTorchProfiler)
    mine = SimpleProfiler()
    assert profiler_from_flag(mine) is mine
    with pytest.raises(MisconfigurationError, match="'simple', 'advanced', 'pytorch'"):
        profiler_from_flag("fast")


def test_base_class_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Profiler().start("a")
