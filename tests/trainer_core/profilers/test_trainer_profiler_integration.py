"""Profilers driven by the real Trainer: report files, per-stage rows, the telemetry hook, all three kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callback import Callback
from trainer_core.profilers import AdvancedProfiler, PyTorchProfiler, SimpleProfiler


class TinyClassifier(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 2)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        return torch.nn.functional.cross_entropy(self.layer(x), y)

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.cross_entropy(self.layer(x), y))

    def test_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("test_loss", torch.nn.functional.cross_entropy(self.layer(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class ReportCatcher(Callback):
    def __init__(self) -> None:
        self.reports: list[tuple[str, list[dict[str, Any]]]] = []

    def on_profiler_report(self, trainer: Any, pl_module: Any, stage: str, rows: list[dict[str, Any]]) -> None:
        self.reports.append((stage, rows))


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(1)
    data = TensorDataset(torch.randn(24, 4, generator=generator), torch.randint(0, 2, (24,), generator=generator))
    return DataLoader(data, batch_size=4)


def _trainer(tmp_path: Path, profiler: Any, *callbacks: Callback) -> pl.Trainer:
    return pl.Trainer(max_epochs=1, default_root_dir=str(tmp_path), profiler=profiler, enable_progress_bar=False,
                      enable_checkpointing=False, weights_summary=None, callbacks=list(callbacks))


def test_simple_profiler_file_rows_and_telemetry(tmp_path: Path) -> None:
    catcher = ReportCatcher()
    trainer = _trainer(tmp_path, SimpleProfiler(filename="perf"), catcher)
    model = TinyClassifier()
    trainer.fit(model, _loader(), _loader())
    trainer.test(model, _loader())
    log_dir = Path(trainer.log_dir)
    fit_report = (log_dir / "fit-perf.txt").read_text()
    assert fit_report.startswith("FIT Profiler Report")
    assert "Mean duration (s)" in fit_report and "Percentage %" in fit_report
    assert (log_dir / "test-perf.txt").read_text().startswith("TEST Profiler Report")
    assert [stage for stage, _ in catcher.reports] == ["fit", "test"]
    fit_rows = {row["action"]: row for row in catcher.reports[0][1]}
    assert fit_rows["run_training_epoch"]["num_calls"] == 1
    assert fit_rows["run_training_batch"]["num_calls"] == 6
    assert any(action.endswith("training_step") and row["num_calls"] == 6 for action, row in fit_rows.items())
    assert all(0.0 <= row["percent"] <= 100.0 for row in fit_rows.values())
    percents = [row["percent"] for row in catcher.reports[0][1]]
    assert percents == sorted(percents, reverse=True)
    test_actions = {row["action"] for row in catcher.reports[1][1]}
    assert "run_training_batch" not in test_actions, "each stage starts a fresh report"


def test_profiler_flag_simple_prints_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trainer = _trainer(tmp_path, "simple")
    assert isinstance(trainer.profiler, SimpleProfiler)
    trainer.fit(TinyClassifier(), _loader())
    assert "FIT Profiler Report" in capsys.readouterr().out


def test_advanced_profiler_in_fit(tmp_path: Path) -> None:
    profiler = AdvancedProfiler(dirpath=tmp_path / "prof", filename="adv", line_count_restriction=5)
    _trainer(tmp_path, profiler).fit(TinyClassifier(), _loader())
    text = (tmp_path / "prof" / "fit-adv.txt").read_text()
    assert "Profile stats for: run_training_epoch" in text


def test_pytorch_profiler_in_fit_writes_trace(tmp_path: Path) -> None:
    profiler = PyTorchProfiler(dirpath=tmp_path / "prof", filename="torch", row_limit=10)
    _trainer(tmp_path, profiler).fit(TinyClassifier(), _loader())
    assert (tmp_path / "prof" / "fit-torch.pt.trace.json").is_file()
    assert (tmp_path / "prof" / "fit-torch.txt").read_text().startswith("FIT Profiler Report")
    assert any(row["action"].endswith("training_step") for row in profiler.report_rows())


def test_trainer_profiler_flag_strings(tmp_path: Path) -> None:
    assert isinstance(_trainer(tmp_path, "advanced").profiler, AdvancedProfiler)
    assert isinstance(_trainer(tmp_path, "pytorch").profiler, PyTorchProfiler)
    assert _trainer(tmp_path, None).profiler.is_passthrough
