"""CUDA-only: logging a histogram or an image from GPU tensors never makes the training thread wait for the device
(the host copy happens on the logger's media thread), and the numbers match the CPU path."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from trainer_core.loggers import TensorBoardLogger
from trainer_core.telemetry.media import device_histogram, histogram_fields

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU and the NVIDIA driver"),
]


def test_device_histogram_matches_the_cpu_result() -> None:
    values = torch.randn(100_000, generator=torch.Generator().manual_seed(0))
    values[::97] = float("nan")
    on_gpu = histogram_fields(device_histogram(values.cuda(), 30))
    on_cpu = histogram_fields(device_histogram(values, 30))
    assert on_gpu["counts"] == on_cpu["counts"] and on_gpu["num"] == on_cpu["num"]
    assert on_gpu["min"] == pytest.approx(on_cpu["min"]) and on_gpu["sum"] == pytest.approx(on_cpu["sum"])


def test_logging_from_gpu_tensors_does_not_sync_the_calling_thread(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    logger = TensorBoardLogger(tmp_path, name="gpu")
    seen: list[tuple[str, dict[str, Any]]] = []
    logger.attach_media_listener(lambda kind, **fields: seen.append((kind, fields)))
    writer = logger.experiment
    gate = threading.Event()
    writer._worker.submit(gate.wait)  # hold the media thread: its host copies must not run in "error" mode
    activations = torch.randn(4096, 256, device="cuda")
    image = torch.rand(3, 32, 32, device="cuda")
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        writer.add_histogram("activations", activations, global_step=3)
        writer.add_image("sample", image, global_step=3)
    finally:
        torch.cuda.set_sync_debug_mode("default")
        gate.set()
    logger.finalize("success")
    assert [kind for kind, _ in seen] == ["histogram", "image"]
    assert seen[0][1]["num"] == 4096 * 256
    assert (Path(logger.log_dir) / "media" / "sample" / "3.png").is_file()
