"""CUDA-only checks for the callbacks: DeviceStatsMonitor's allocator stats and the progress bar's sync cadence."""

from __future__ import annotations

import pytest
import torch
from helpers.fake_trainer import FakeLogger, FakeTrainer

from trainer_core.callbacks import DeviceStatsMonitor, ProgressBar

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU and the NVIDIA driver"),
]


class CudaModule:
    device = torch.device("cuda", 0)
    automatic_optimization = True
    truncated_bptt_steps = 0


def test_device_stats_reports_cuda_allocator() -> None:
    logger = FakeLogger()
    trainer = FakeTrainer(loggers=[logger], log_every_n_steps=1)
    monitor = DeviceStatsMonitor()
    block = torch.empty(64 * 1024 * 1024, dtype=torch.uint8, device="cuda")
    monitor.on_train_batch_start(trainer, CudaModule(), None, 0)
    monitor.on_train_batch_end(trainer, CudaModule(), None, None, 0)
    start = logger.logged[0][0]
    assert start["on_train_batch_start/allocated_bytes.all.current"] >= block.numel()
    assert not any("cpu_percent" in key for key in start)  # CPU stats only on CPU unless asked
    del block


def test_progress_bar_syncs_only_when_it_redraws() -> None:
    trainer = FakeTrainer(num_training_batches=10)
    bar = ProgressBar(refresh_rate=5)
    module = CudaModule()
    bar.on_train_start(trainer, module)
    bar.on_train_epoch_start(trainer, module)
    losses = [torch.tensor(float(i), device="cuda") for i in range(10)]
    torch.cuda.synchronize()
    try:
        torch.cuda.set_sync_debug_mode("error")
        for i in range(4):  # batches 1-4: no redraw, so no device-to-host read may happen
            bar.on_train_batch_end(trainer, module, {"loss": losses[i]}, None, i)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for i in range(4, 10):
        bar.on_train_batch_end(trainer, module, {"loss": losses[i]}, None, i)
    assert bar.get_metrics(trainer, module)["loss"] == "4.5"
    bar.on_train_end(trainer, module)
