"""GPUStatsMonitor (NVML; clear errors without a GPU or logger) and XLAStatsMonitor (clear error without TPUs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.callbacks import GPUStatsMonitor, XLAStatsMonitor
from trainer_core.exceptions import MisconfigurationError
from trainer_core.loggers import CSVLogger

QUIET = dict(enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, max_steps=1)


def test_gpu_stats_monitor_needs_a_logger_and_a_gpu(tmp_path: Path) -> None:
    with pytest.raises(MisconfigurationError, match="needs a logger"):
        pl.Trainer(logger=False, callbacks=[GPUStatsMonitor()], **QUIET).fit(BoringModel())
    trainer = pl.Trainer(logger=CSVLogger(str(tmp_path)), accelerator="cpu", callbacks=[GPUStatsMonitor()], **QUIET)
    with pytest.raises(MisconfigurationError, match="needs a GPU, but this run uses the CPU"):
        trainer.fit(BoringModel())


class FakeNVML:
    NVML_TEMPERATURE_GPU = 0

    @staticmethod
    def nvmlDeviceGetUtilizationRates(handle: object) -> SimpleNamespace:  # noqa: N802 (NVML's name)
        return SimpleNamespace(gpu=40, memory=10)

    @staticmethod
    def nvmlDeviceGetMemoryInfo(handle: object) -> SimpleNamespace:  # noqa: N802
        return SimpleNamespace(used=512 * 1024 * 1024, free=1024 * 1024 * 1024)

    @staticmethod
    def nvmlDeviceGetFanSpeed(handle: object) -> int:  # noqa: N802
        raise RuntimeError("no fan")

    @staticmethod
    def nvmlDeviceGetTemperature(handle: object, sensor: int) -> int:  # noqa: N802
        return 55


def test_gpu_stats_use_the_1x_metric_names() -> None:
    monitor = GPUStatsMonitor(fan_speed=True, temperature=True)
    monitor._nvml, monitor._handles = FakeNVML, [(1, object())]
    assert monitor.read_stats() == {
        "gpu_id: 1/utilization.gpu (%)": 40.0, "gpu_id: 1/memory.used (MB)": 512.0,
        "gpu_id: 1/memory.free (MB)": 1024.0, "gpu_id: 1/utilization.memory (%)": 10.0,
        "gpu_id: 1/temperature.gpu (°C)": 55.0}
    only_gpu = GPUStatsMonitor(memory_utilization=False)
    only_gpu._nvml, only_gpu._handles = FakeNVML, [(0, object())]
    assert only_gpu.read_stats() == {"gpu_id: 0/utilization.gpu (%)": 40.0}


@pytest.mark.skipif(importlib.util.find_spec("torch_xla") is not None, reason="torch_xla is installed")
def test_xla_stats_monitor_names_torch_xla() -> None:
    with pytest.raises(MisconfigurationError, match="`torch_xla` package"):
        XLAStatsMonitor()
