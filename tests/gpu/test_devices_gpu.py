"""CUDA-only: one GPU through gpus=1, dp on one device, ddp with one process, 16-mixed and bf16, log_gpu_memory.

Run on a single-GPU machine with ``pytest tests/gpu/test_devices_gpu.py``; on CPU-only machines every test skips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core import Trainer
from trainer_core.loggers import CSVLogger

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU and the NVIDIA driver"),
]

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "enable_checkpointing": False}


def data(n: int = 64) -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 8, generator=generator)
    return DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=16)


class DeviceAgnostic(pl.LightningModule):
    """Written without a device anywhere: the trainer moves the model and batches."""

    def __init__(self) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                                       torch.nn.Linear(16, 1))
        self.seen: dict[str, Any] = {}

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        pred = self.net(x)
        offset = torch.zeros(1, device=self.device).type_as(x)  # device-agnostic tensor creation
        self.seen.update(batch_device=x.device, module_device=self.device, out_dtype=pred.dtype,
                         offset=(offset.device.type, offset.dtype))
        loss = torch.nn.functional.mse_loss(pred.float() + offset, y)
        self.log("train_loss", loss, sync_dist=True)
        return loss

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.05)


def _fit(**flags: Any) -> tuple[Trainer, DeviceAgnostic]:
    model = DeviceAgnostic()
    trainer = Trainer(max_epochs=2, **{**QUIET, "logger": False, **flags})
    trainer.fit(model, data())
    return trainer, model


def _assert_trained_on_cuda(trainer: Trainer, model: DeviceAgnostic) -> None:
    assert trainer.global_step == 8
    assert model.seen["batch_device"].type == model.seen["module_device"].type == "cuda"
    assert trainer.strategy.root_device == torch.device("cuda", 0)
    assert model.seen["offset"] == ("cuda", torch.float32)
    assert torch.isfinite(trainer.callback_metrics["train_loss"])


def test_gpus_1_and_accelerator_gpu() -> None:
    for flags in ({"gpus": 1}, {"accelerator": "gpu", "devices": 1}, {"gpus": "0,"}):
        trainer, model = _fit(**flags)
        _assert_trained_on_cuda(trainer, model)
        assert trainer.strategy.name == "single_device"


def test_dp_on_one_device() -> None:
    trainer, model = _fit(gpus=1, strategy="dp")
    _assert_trained_on_cuda(trainer, model)
    assert trainer.strategy.name == "dp"


def test_ddp_with_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer_core.strategies.environment import free_port

    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")
    monkeypatch.setenv("MASTER_PORT", str(free_port()))
    trainer, model = _fit(accelerator="gpu", devices=1, strategy="ddp", sync_batchnorm=True)
    try:
        _assert_trained_on_cuda(trainer, model)
        assert trainer.strategy.name == "ddp" and trainer.world_size == 1
        assert isinstance(model.net[1], torch.nn.SyncBatchNorm)  # converted on the GPU
        assert torch.distributed.get_backend() == "nccl"
    finally:
        trainer.strategy.destroy()


@pytest.mark.parametrize(("precision", "dtype"), [("16-mixed", torch.float16), (16, torch.float16),
                                                  ("bf16-mixed", torch.bfloat16), ("bf16", torch.bfloat16)])
def test_mixed_precision(precision: Any, dtype: torch.dtype) -> None:
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16 support")
    trainer, model = _fit(gpus=1, precision=precision)
    _assert_trained_on_cuda(trainer, model)
    assert model.seen["out_dtype"] == dtype  # the forward ran under autocast
    assert next(model.parameters()).dtype == torch.float32  # weights stay float32 (mixed, not true half)
    assert (trainer.precision_plugin.scaler is not None) == (dtype == torch.float16)


@pytest.mark.parametrize("mode", ["all", "min_max"])
def test_log_gpu_memory(tmp_path: Path, mode: str) -> None:
    logger = CSVLogger(str(tmp_path), name="gpu")
    trainer = Trainer(max_epochs=1, gpus=1, log_gpu_memory=mode, log_every_n_steps=1, logger=logger,
                      **QUIET)
    trainer.fit(DeviceAgnostic(), data())
    keys = {"all": ["gpu_id: 0/memory.used (MB)"], "min_max": ["min_gpu_mem", "max_gpu_mem"]}[mode]
    for key in keys:
        assert trainer.logged_metrics[key] > 0  # the CUDA context alone takes memory on device 0
    header = (Path(logger.log_dir) / "metrics.csv").read_text().splitlines()[0]
    assert all(key in header for key in keys)
