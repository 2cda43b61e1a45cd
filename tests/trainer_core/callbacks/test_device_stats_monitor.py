"""DeviceStatsMonitor on CPU: psutil stats at the logging cadence, once per optimizer step."""

from __future__ import annotations

import pytest
import torch
from helpers.fake_trainer import FakeLogger, FakeTrainer

from trainer_core.callbacks import DeviceStatsMonitor
from trainer_core.exceptions import MisconfigurationError


class CpuModule(torch.nn.Module):
    device = torch.device("cpu")


def test_cpu_stats_logged_every_n_steps() -> None:
    logger = FakeLogger()
    trainer = FakeTrainer(loggers=[logger], log_every_n_steps=2)
    monitor = DeviceStatsMonitor()
    module = CpuModule()
    monitor.setup(trainer, module, "fit")
    for batch_idx in range(8):
        trainer.global_step = batch_idx // 2  # accumulate 2: each step spans two batches
        monitor.on_train_batch_start(trainer, module, None, batch_idx)
        monitor.on_train_batch_end(trainer, module, None, None, batch_idx)
    assert [step for _, step in logger.logged] == [1, 1, 3, 3]
    start, end = logger.logged[0][0], logger.logged[1][0]
    assert set(start) == {"on_train_batch_start/cpu_percent", "on_train_batch_start/cpu_vm_percent",
                          "on_train_batch_start/cpu_swap_percent"}
    assert set(end) == {k.replace("start", "end") for k in start}
    assert all(0.0 <= v <= 100.0 for v in start.values())


def test_cpu_stats_can_be_turned_off() -> None:
    logger = FakeLogger()
    trainer = FakeTrainer(loggers=[logger], log_every_n_steps=1)
    monitor = DeviceStatsMonitor(cpu_stats=False)
    monitor.on_train_batch_start(trainer, CpuModule(), None, 0)
    assert logger.logged == []  # nothing to report on a CPU without CPU stats


def test_needs_a_logger() -> None:
    with pytest.raises(MisconfigurationError, match="logger"):
        DeviceStatsMonitor().setup(FakeTrainer(), CpuModule(), "fit")
