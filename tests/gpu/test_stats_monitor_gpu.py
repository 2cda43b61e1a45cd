"""CUDA-only: GPUStatsMonitor logs NVML readings under 1.x's names (skips without a GPU or nvidia-ml-py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.boring_model import BoringModel
from trainer_core import Trainer
from trainer_core.callbacks import GPUStatsMonitor
from trainer_core.loggers import CSVLogger

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU and the NVIDIA driver"),
]


def test_gpu_stats_monitor_logs_nvml_readings(tmp_path: Path) -> None:
    pytest.importorskip("pynvml", reason="GPUStatsMonitor reads NVML through nvidia-ml-py")
    logger = CSVLogger(str(tmp_path))
    monitor = GPUStatsMonitor(intra_step_time=True, inter_step_time=True, temperature=True)
    trainer = Trainer(accelerator="gpu", devices=1, max_steps=4, log_every_n_steps=2, logger=logger,
                      callbacks=[monitor], enable_progress_bar=False, enable_model_summary=False,
                      enable_checkpointing=False)
    trainer.fit(BoringModel())
    header = (Path(logger.log_dir) / "metrics.csv").read_text().splitlines()[0]
    for name in ("gpu_id: 0/utilization.gpu (%)", "gpu_id: 0/memory.used (MB)", "batch_time/intra_step (ms)",
                 "batch_time/inter_step (ms)", "gpu_id: 0/temperature.gpu (°C)"):
        assert name in header
