"""CUDA-only training techniques: 16-mixed with a GradScaler, bf16, clipping and grad norms under AMP, determinism,
cudnn.benchmark, log_gpu_memory through the Trainer, and no host syncs on the hot path (sync debug mode)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (precision=16 with a GradScaler, "
                                                             "cudnn and NVML are CUDA-only)"),
]

QUIET: dict[str, Any] = {"logger": False, "enable_checkpointing": False, "enable_progress_bar": False,
                         "enable_model_summary": False, "accelerator": "gpu", "devices": 1}


class Net(pl.LightningModule):
    """A small MLP with a loss large enough that clipping acts; records what the step hooks see."""

    def __init__(self, n: int = 64, batch_size: int = 16) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
        self.n, self.batch_size = n, batch_size
        self.seen: dict[str, Any] = {}
        self.after_backward: list[torch.Tensor] = []
        self.before_step: list[torch.Tensor] = []
        self.stepped_norms: list[float] = []
        self.stepped_max: list[float] = []

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        out = self.net(x)
        self.seen = {"output": out.dtype, "param": self.net[0].weight.dtype}
        return 100 * torch.nn.functional.mse_loss(out.float(), y)

    def on_after_backward(self) -> None:
        self.after_backward.append(self.net[0].weight.grad.detach().clone())

    def on_before_optimizer_step(self, optimizer: Any, optimizer_idx: int) -> None:
        self.before_step.append(self.net[0].weight.grad.detach().clone())

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_idx: int = 0,
                       optimizer_closure: Any = None, **kwargs: Any) -> None:
        # The closure (training_step, backward, clipping) runs inside the step; the gradients it used stay in place.
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_idx, optimizer_closure, **kwargs)
        grads = [p.grad.detach().flatten().float() for p in self.parameters() if p.grad is not None]
        self.stepped_norms.append(torch.linalg.vector_norm(torch.cat(grads)).item())
        self.stepped_max.append(torch.cat(grads).abs().max().item())

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self) -> DataLoader:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(self.n, 32, generator=gen)
        return DataLoader(TensorDataset(x, torch.ones(self.n, 2)), batch_size=self.batch_size)


def _fit(model: Net, **flags: Any) -> pl.Trainer:
    trainer = pl.Trainer(**{**QUIET, "max_epochs": 1, "limit_val_batches": 0, **flags})
    trainer.fit(model)
    return trainer


def test_16_mixed_uses_autocast_and_a_grad_scaler(tmp_path: Path) -> None:
    model = Net()
    trainer = _fit(model, precision=16)
    assert trainer.precision == "16-mixed"
    assert isinstance(trainer.scaler, torch.amp.GradScaler)
    assert model.seen == {"output": torch.float16, "param": torch.float32}
    scale = trainer.scaler.get_scale()
    # on_after_backward sees scaled gradients; on_before_optimizer_step the unscaled ones (1.5 order)
    ratio = (model.after_backward[-1].abs().sum() / model.before_step[-1].abs().sum()).item()
    assert ratio == pytest.approx(scale, rel=1e-2)
    trainer.save_checkpoint(tmp_path / "amp.ckpt")
    state = torch.load(tmp_path / "amp.ckpt", weights_only=True)["native_amp_scaling_state"]
    assert state["scale"] == scale


def test_bf16_mixed_on_cuda_has_no_scaler() -> None:
    model = Net()
    trainer = _fit(model, precision="bf16")
    assert trainer.precision == "bf16-mixed" and trainer.scaler is None
    assert model.seen == {"output": torch.bfloat16, "param": torch.float32}


@pytest.mark.parametrize("precision", [32, 16, "bf16"])
def test_clip_by_norm_under_amp(precision: Any) -> None:
    model = Net()
    _fit(model, precision=precision, max_steps=1, gradient_clip_val=0.05)
    assert model.stepped_norms == [pytest.approx(0.05, rel=1e-3)]


@pytest.mark.parametrize("precision", [32, 16])
def test_clip_by_value_under_amp(precision: Any) -> None:
    model = Net()
    _fit(model, precision=precision, max_steps=1, gradient_clip_val=1e-10, gradient_clip_algorithm="value")
    assert model.stepped_max == [pytest.approx(1e-10, rel=1e-3)]


def test_grad_norm_tracking_sees_unscaled_gradients() -> None:
    model = Net()
    trainer = _fit(model, precision=16, max_steps=1, track_grad_norm=2)
    want = torch.linalg.vector_norm(model.before_step[0].float()).item()
    assert trainer.grad_norms["grad_2.0_norm/net.0.weight"].item() == pytest.approx(want, rel=1e-3, abs=1e-4)


def _weights(**flags: Any) -> torch.Tensor:
    pl.seed_everything(7)

    class Conv(Net):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv1d(1, 4, 3, padding=1)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            h = self.conv(x.unsqueeze(1)).mean(1)
            return torch.nn.functional.mse_loss(self.net(torch.nn.functional.dropout(h, 0.3)), y)

    model = Conv()
    _fit(model, max_epochs=2, **flags)
    return torch.cat([p.detach().flatten().cpu() for p in model.parameters()])


def test_deterministic_cuda_runs_are_bit_identical() -> None:
    try:
        first = _weights(deterministic=True)
        assert os.environ.get("CUBLAS_WORKSPACE_CONFIG") in (":4096:8", ":16:8")
        assert torch.backends.cudnn.benchmark is False
        second = _weights(deterministic=True)
    finally:
        torch.use_deterministic_algorithms(False)
    assert torch.equal(first, second)


def test_benchmark_sets_cudnn_benchmark() -> None:
    saved = torch.backends.cudnn.benchmark
    try:
        pl.Trainer(**QUIET, benchmark=True)
        assert torch.backends.cudnn.benchmark is True
        _weights(benchmark=True)  # a run with cudnn autotuning works
    finally:
        torch.backends.cudnn.benchmark = saved


def test_log_gpu_memory_through_the_trainer() -> None:
    from trainer_core.loggers import Logger
    from trainer_core.utilities import nvml

    class Keep(Logger):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[dict[str, float]] = []

        @property
        def name(self) -> str:
            return "keep"

        @property
        def version(self) -> int:
            return 0

        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            self.calls.append(dict(metrics))

        def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
            pass

    class Logs(Net):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            loss = super().training_step(batch, batch_idx)
            self.log("train_loss", loss)
            return loss

    nvml.reset_nvml_cache()
    logger = Keep()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a driver is present: no "not logged" warning
        _fit(Logs(), **{"logger": logger, "log_gpu_memory": "min_max", "log_every_n_steps": 2})
    payloads = [m for m in logger.calls if "train_loss" in m]
    assert payloads and all(m["max_gpu_mem"] >= m["min_gpu_mem"] > 0 for m in payloads)


def test_no_host_sync_between_logging_steps() -> None:
    """With sync debug mode on, every .item()/.cpu() on a CUDA tensor warns; none may happen on quiet steps.

    No logger here, so nothing at all should be read back; batch 0 and logging batches are left out anyway.
    """
    from trainer_core.callback import Callback

    marks: list[int] = []
    caught: list[Any] = []

    class Mark(Callback):
        def on_train_batch_start(self, trainer: Any, pl_module: Any, *args: Any) -> None:
            marks.append(len(caught))

    class Quiet(Net):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x), y)
            self.log("train_loss", loss)
            return loss

        def optimizer_step(self, *args: Any, **kwargs: Any) -> None:  # no recording (.item) here
            pl.LightningModule.optimizer_step(self, *args, **kwargs)

        def on_after_backward(self) -> None:
            pass

        def on_before_optimizer_step(self, optimizer: Any, optimizer_idx: int) -> None:
            pass

    model = Quiet(n=16 * 20)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            caught = record
            # bf16: GradScaler.step itself reads found_inf on the host every step (16-mixed syncs by design).
            _fit(model, callbacks=[Mark()], log_every_n_steps=5, gradient_clip_val=1.0, precision="bf16")
        finally:
            torch.cuda.set_sync_debug_mode(0)
    deltas = [b - a for a, b in zip(marks, marks[1:], strict=False)]
    quiet = [d for i, d in enumerate(deltas) if i > 0 and (i + 1) % 5 != 0]
    assert quiet == [0] * len(quiet), deltas
