"""profiler="simple"/"advanced"/"pytorch" through the Trainer: rows to telemetry callbacks, files in the run folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _techniques_models import BoringModel, trainer

from trainer_core.callback import Callback
from trainer_core.profilers import AdvancedProfiler, PyTorchProfiler, SimpleProfiler

ROW_KEYS = {"action", "mean_s", "num_calls", "total_s", "percent"}


class Reports(Callback):
    def __init__(self) -> None:
        self.reports: list[tuple[str, list[dict[str, Any]]]] = []

    def on_profiler_report(self, trainer: Any, pl_module: Any, stage: str, rows: list[dict[str, Any]]) -> None:
        self.reports.append((stage, rows))


def _calls(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {row["action"]: row["num_calls"] for row in rows}


def test_simple_rows_per_stage_and_hook(capsys: Any) -> None:
    reports = Reports()
    model = BoringModel(batch_size=4, length=20)
    t = trainer(profiler="simple", max_epochs=2, limit_val_batches=2, callbacks=[reports])
    t.fit(model)
    t.test(model, verbose=False)
    assert [stage for stage, _ in reports.reports] == ["fit", "test"]
    fit_rows = reports.reports[0][1]
    assert all(set(row) >= ROW_KEYS for row in fit_rows)
    assert all(0.0 <= row["percent"] <= 100.0 for row in fit_rows)
    calls = _calls(fit_rows)
    assert calls["run_training_epoch"] == 2
    assert calls["run_training_batch"] == calls["training_step"] == calls["backward"] == 10
    assert calls["optimizer_step_with_closure_0"] == calls["zero_grad"] == 10
    assert calls["get_train_batch"] >= 10
    assert calls["[LightningModule]BoringModel.training_step"] == 10
    assert any(action.startswith("[Callback]Reports") for action in calls) is False  # only overridden hooks
    percents = [row["percent"] for row in fit_rows]
    assert percents == sorted(percents, reverse=True)
    out = capsys.readouterr().out
    assert "FIT Profiler Report" in out and "Total" in out  # no filename: printed


def test_simple_writes_to_the_run_folder(tmp_path: Path) -> None:
    profiler = SimpleProfiler(filename="perf")
    t = trainer(logger=True, default_root_dir=tmp_path, profiler=profiler, max_epochs=1, limit_train_batches=3,
                limit_val_batches=1)
    t.fit(BoringModel())
    report = Path(t.log_dir) / "fit-perf.txt"
    assert report.is_file() and "FIT Profiler Report" in report.read_text()
    assert "run_training_batch" in report.read_text()


def test_simple_with_dirpath(tmp_path: Path) -> None:
    t = trainer(profiler=SimpleProfiler(dirpath=tmp_path / "prof", filename="run"), max_epochs=1,
                limit_train_batches=2, limit_val_batches=1)
    t.fit(BoringModel())
    assert (tmp_path / "prof" / "fit-run.txt").is_file()


def test_advanced_profiles_each_action(tmp_path: Path) -> None:
    reports = Reports()
    t = trainer(profiler=AdvancedProfiler(dirpath=tmp_path, filename="adv"), max_epochs=1, limit_train_batches=3,
                limit_val_batches=1, callbacks=[reports])
    t.fit(BoringModel())
    rows = reports.reports[0][1]
    assert _calls(rows)["run_training_batch"] == 3
    text = (tmp_path / "fit-adv.txt").read_text()
    assert "Profile stats for: run_training_batch" in text and "cumulative" in text


def test_advanced_by_name() -> None:
    t = trainer(profiler="advanced", max_epochs=1, limit_train_batches=1, limit_val_batches=0)
    assert isinstance(t.profiler, AdvancedProfiler)


def test_pytorch_profiler_writes_a_chrome_trace(tmp_path: Path) -> None:
    reports = Reports()
    profiler = PyTorchProfiler(dirpath=tmp_path, filename="torch")
    t = trainer(profiler=profiler, max_epochs=1, limit_train_batches=6, limit_val_batches=0, callbacks=[reports])
    t.fit(BoringModel())
    traces = list(tmp_path.glob("*.pt.trace.json"))
    assert len(traces) == 1
    events = json.loads(traces[0].read_text())["traceEvents"]
    names = {event.get("name") for event in events}
    assert "training_step" in names and "backward" in names
    assert any("torch.nn.modules.linear.Linear: layer" in str(n) for n in names)  # per-module scopes
    assert (tmp_path / "fit-torch.txt").is_file()
    rows = reports.reports[0][1]
    assert rows and set(rows[0]) >= ROW_KEYS


def test_pytorch_by_name_and_no_profiler_by_default() -> None:
    assert isinstance(trainer(profiler="pytorch").profiler, PyTorchProfiler)
    reports = Reports()
    trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0, callbacks=[reports]).fit(BoringModel())
    assert reports.reports == [("fit", [])]
