"""CUDA-only checks for log_gpu_memory (real NVML) and the PyTorchProfiler's CUDA activity."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from trainer_core.profilers import PyTorchProfiler
from trainer_core.utilities import nvml

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU and the NVIDIA driver"),
]


def test_nvml_sees_an_allocation() -> None:
    nvml.reset_nvml_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a driver is present: no warning allowed
        torch.cuda.init()
        torch.cuda.synchronize()
        before = nvml.gpu_memory_metrics("all")
        index = torch.cuda.current_device()
        block = torch.empty(512 * 1024 * 1024, dtype=torch.uint8, device="cuda")  # 512 MiB
        torch.cuda.synchronize()
        after = nvml.gpu_memory_metrics("all")
    key = f"gpu_id: {index}/memory.used (MB)"
    assert key in before and key in after
    assert after[key] - before[key] >= 500, (before, after)
    min_max = nvml.gpu_memory_metrics("min_max")
    assert min_max["min_gpu_mem"] <= min_max["max_gpu_mem"]
    del block


def test_pytorch_profiler_records_cuda_kernels(tmp_path: Path) -> None:
    model = torch.nn.Linear(256, 256).cuda()
    profiler = PyTorchProfiler(dirpath=tmp_path, filename="cuda")
    assert profiler.sort_by_key == "cuda_time_total"
    profiler.setup("fit")
    for _ in range(6):
        with profiler.profile("training_step"):
            model(torch.randn(64, 256, device="cuda")).sum().backward()
    torch.cuda.synchronize()
    profiler.describe()
    assert (tmp_path / "fit-cuda.pt.trace.json").is_file()
    rows = profiler.report_rows()
    assert rows and all("device_total_s" in row for row in rows)
    assert sum(row["device_total_s"] for row in rows) > 0
    assert "FIT Profiler Report" in (tmp_path / "fit-cuda.txt").read_text()
