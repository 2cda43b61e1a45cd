"""Loggers, the weights summary and log_gpu_memory with the real Trainer (tiny model, a few batches)."""

from __future__ import annotations

import csv
import os
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
import yaml
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.loggers import CSVLogger
from trainer_core.utilities import nvml


class TinyRegressor(pl.LightningModule):
    def __init__(self, lr: float = 0.05, hidden: int = 8) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
        self.unused = torch.nn.Linear(2, 2)
        self.example_input_array = torch.zeros(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


def _loaders() -> tuple[DataLoader, DataLoader]:
    generator = torch.Generator().manual_seed(0)
    data = TensorDataset(torch.randn(16, 4, generator=generator), torch.randn(16, 1, generator=generator))
    return DataLoader(data, batch_size=4), DataLoader(data, batch_size=8)


def _fit(tmp_path: Path, **flags: object) -> pl.Trainer:
    flags = {"max_epochs": 2, "default_root_dir": str(tmp_path), "enable_progress_bar": False,
             "enable_checkpointing": False, "log_every_n_steps": 2, **flags}
    trainer = pl.Trainer(**flags)
    trainer.fit(TinyRegressor(), *_loaders())
    return trainer


def _csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_default_logger_layout_metrics_and_hparams(tmp_path: Path) -> None:
    trainer = _fit(tmp_path, weights_summary=None)
    log_dir = tmp_path / "lightning_logs" / "version_0"
    assert trainer.log_dir == str(log_dir)
    with open(log_dir / "metrics.csv") as handle:
        assert handle.readline().strip() == "train_loss,epoch,step,val_loss"
    rows = _csv(str(log_dir / "metrics.csv"))
    # 4 batches per epoch, log_every_n_steps=2: steps 1, 3 (epoch 0) and 5, 7 (epoch 1), plus one val row per epoch.
    train_steps = [int(r["step"]) for r in rows if r["train_loss"]]
    assert train_steps == [1, 3, 5, 7]
    val_rows = [(int(r["epoch"]), int(r["step"])) for r in rows if r["val_loss"]]
    assert val_rows == [(0, 3), (1, 7)]
    assert yaml.safe_load((log_dir / "hparams.yaml").read_text()) == {"lr": 0.05, "hidden": 8}
    # A second run takes the next version.
    assert _fit(tmp_path, weights_summary=None, max_epochs=1).log_dir == str(tmp_path / "lightning_logs" / "version_1")


def test_explicit_csv_logger_with_name_and_version(tmp_path: Path) -> None:
    logger = CSVLogger(tmp_path / "logs", name="exp", version="run_a")
    trainer = _fit(tmp_path, logger=logger, weights_summary=None, max_epochs=1)
    assert trainer.log_dir == str(tmp_path / "logs" / "exp" / "run_a")
    assert (tmp_path / "logs" / "exp" / "run_a" / "metrics.csv").is_file()


def test_fast_dev_run_writes_no_logger_files(tmp_path: Path) -> None:
    _fit(tmp_path, fast_dev_run=True, weights_summary=None)
    assert not (tmp_path / "lightning_logs").exists()


@pytest.mark.parametrize(("mode", "names"), [("top", ["net", "unused"]),
                                             ("full", ["net", "net.0", "net.1", "net.2", "unused"])])
def test_weights_summary_printed_at_fit_start(tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: str,
                                              names: list[str]) -> None:
    _fit(tmp_path, weights_summary=mode, max_epochs=1, logger=False)
    out = capsys.readouterr().out
    table = out[out.index("  | Name"):]
    body = [line.split(" | ")[1].strip() for line in table.splitlines()[2:2 + len(names)]]
    assert body == names
    assert "| In sizes | Out sizes" in table
    assert "[3, 4]" in table and "?" in table  # the unused layer
    assert "55        Total params" in table  # (4*8+8) + (8*1+1) + (2*2+2)


def test_weights_summary_off(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fit(tmp_path, weights_summary=None, max_epochs=1, logger=False)
    _fit(tmp_path, enable_model_summary=False, max_epochs=1, logger=False)
    assert "Total params" not in capsys.readouterr().out


@pytest.fixture
def fresh_nvml() -> Iterator[None]:
    nvml.reset_nvml_cache()
    yield
    nvml.reset_nvml_cache()


def test_log_gpu_memory_columns_from_nvml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_nvml: None) -> None:
    fake = types.ModuleType("pynvml")
    fake.nvmlInit = lambda: None  # type: ignore[attr-defined]
    fake.nvmlDeviceGetCount = lambda: 2  # type: ignore[attr-defined]
    fake.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    fake.nvmlDeviceGetMemoryInfo = (  # type: ignore[attr-defined]
        lambda h: types.SimpleNamespace(used=(h + 1) * 100 * 1024 * 1024))
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    trainer = _fit(tmp_path, log_gpu_memory="all", weights_summary=None, max_epochs=1)
    rows = _csv(os.path.join(trainer.log_dir, "metrics.csv"))
    step_rows = [r for r in rows if r["train_loss"]]
    assert step_rows and all(r["gpu_id: 0/memory.used (MB)"] == "100.0" for r in step_rows)
    assert all(r["gpu_id: 1/memory.used (MB)"] == "200.0" for r in step_rows)


def test_log_gpu_memory_without_driver_warns_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  fresh_nvml: None) -> None:
    fake = types.ModuleType("pynvml")

    def no_driver() -> None:
        raise OSError("NVML Shared Library Not Found")

    fake.nvmlInit = no_driver  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer = _fit(tmp_path, log_gpu_memory="min_max", weights_summary=None, max_epochs=1)
    gpu_warnings = [w for w in caught if "log_gpu_memory" in str(w.message)]
    assert len(gpu_warnings) == 1
    header = open(os.path.join(trainer.log_dir, "metrics.csv")).readline()
    assert "gpu_mem" not in header
