"""precision (32, 16 -> bf16 on CPU, bf16, 64, 2.x strings), scaler state in checkpoints, apex errors, determinism."""

from __future__ import annotations

import os
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
import torch
from _techniques_models import BoringModel, trainer
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.exceptions import MisconfigurationError
from trainer_core.precision import MixedPrecision


class DtypeProbe(BoringModel):
    """Records the dtypes seen inside training_step: input, parameters, and a Linear output."""

    def __init__(self) -> None:
        super().__init__(batch_size=4, length=8)
        self.seen: dict[str, Any] = {}

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, label = batch
        out = self(x)
        self.seen = {"input": x.dtype, "label": label.dtype, "param": self.layer.weight.dtype, "output": out.dtype,
                     "autocast": torch.is_autocast_enabled("cpu")}
        return self.loss(out.float())

    def train_dataloader(self) -> DataLoader:
        gen = torch.Generator().manual_seed(0)
        return DataLoader(TensorDataset(torch.randn(8, 32, generator=gen), torch.arange(8)), batch_size=4)


def _fit(model: pl.LightningModule, **flags: Any) -> pl.Trainer:
    t = trainer(max_steps=1, limit_val_batches=0, **flags)
    t.fit(model)
    return t


@pytest.mark.parametrize(("flag", "name"), [(32, "32-true"), ("32", "32-true"), ("32-true", "32-true"),
                                            ("bf16", "bf16-mixed"), ("bf16-mixed", "bf16-mixed"),
                                            (64, "64-true"), ("64-true", "64-true"), ("bf16-true", "bf16-true"),
                                            ("16-true", "16-true")])
def test_precision_strings(flag: Any, name: str) -> None:
    assert trainer(precision=flag).precision == name


def test_32_is_plain() -> None:
    model = DtypeProbe()
    _fit(model, precision=32)
    assert model.seen == {"input": torch.float32, "label": torch.int64, "param": torch.float32,
                          "output": torch.float32, "autocast": False}


@pytest.mark.parametrize("flag", [16, "16", "16-mixed"])
def test_16_on_cpu_warns_and_runs_bf16(flag: Any) -> None:
    with pytest.warns(UserWarning, match="bf16"):
        t = trainer(precision=flag)
    assert t.precision == "bf16-mixed" and t.scaler is None
    model = DtypeProbe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _fit(model, precision=flag)
    assert model.seen["output"] == torch.bfloat16 and model.seen["param"] == torch.float32


def test_bf16_mixed_autocasts_and_keeps_float32_weights() -> None:
    model = DtypeProbe()
    _fit(model, precision="bf16")
    assert model.seen == {"input": torch.float32, "label": torch.int64, "param": torch.float32,
                          "output": torch.bfloat16, "autocast": True}
    assert model.layer.weight.dtype == torch.float32


def test_64_converts_model_and_float_inputs() -> None:
    model = DtypeProbe()
    _fit(model, precision=64)
    assert model.seen == {"input": torch.float64, "label": torch.int64, "param": torch.float64,
                          "output": torch.float64, "autocast": False}


def test_bf16_true_converts_everything() -> None:
    model = DtypeProbe()
    _fit(model, precision="bf16-true")
    assert model.seen["param"] == model.seen["input"] == model.seen["output"] == torch.bfloat16
    assert model.seen["label"] == torch.int64


@pytest.mark.parametrize("bad", [8, "fp16", "half", 16.5])
def test_unknown_precision(bad: Any) -> None:
    with pytest.raises(MisconfigurationError, match="precision"):
        trainer(precision=bad)


@pytest.mark.parametrize("flags", [{"amp_backend": "apex"}, {"amp_level": "O2"},
                                   {"amp_backend": "apex", "amp_level": "O1", "precision": 16}])
def test_apex_is_a_clear_error(flags: dict[str, Any]) -> None:
    with pytest.raises(MisconfigurationError, match="apex") as err:
        trainer(**flags)
    assert "native" in str(err.value)


class ScaledFloat32(MixedPrecision):
    def __init__(self, scale: float) -> None:
        super().__init__(torch.float32, "cpu", torch.amp.GradScaler("cpu", init_scale=scale, growth_interval=10**6))

    def forward_context(self) -> Any:
        return nullcontext()


def test_scaler_state_goes_into_checkpoints_and_comes_back(tmp_path: Path) -> None:
    model = BoringModel(batch_size=4, length=16)
    t = _fit(model, plugins=[ScaledFloat32(2.0**10)])
    path = tmp_path / "scaled.ckpt"
    t.save_checkpoint(path)
    checkpoint = torch.load(path, weights_only=True)
    assert checkpoint["native_amp_scaling_state"]["scale"] == 2.0**10
    resumed = trainer(max_steps=2, limit_val_batches=0, plugins=[ScaledFloat32(2.0)])
    resumed.fit(BoringModel(batch_size=4, length=16), ckpt_path=str(path))
    assert resumed.scaler.get_scale() == 2.0**10
    plain = _fit(BoringModel(batch_size=4, length=16))
    plain.save_checkpoint(tmp_path / "plain.ckpt")
    assert "native_amp_scaling_state" not in torch.load(tmp_path / "plain.ckpt", weights_only=True)


def _seeded_weights(**flags: Any) -> torch.Tensor:
    pl.seed_everything(1234)

    class Shuffled(BoringModel):
        def train_dataloader(self) -> DataLoader:
            return DataLoader(super().train_dataloader().dataset, batch_size=4, shuffle=True)

        def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
            noisy = torch.nn.functional.dropout(self(batch), p=0.5)
            return self.loss(noisy)

    model = Shuffled(length=32)
    trainer(max_epochs=2, limit_val_batches=0, **flags).fit(model)
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_deterministic_runs_are_bit_identical() -> None:
    try:
        first = _seeded_weights(deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert os.environ.get("CUBLAS_WORKSPACE_CONFIG") in (":4096:8", ":16:8")
        second = _seeded_weights(deterministic=True)
    finally:
        torch.use_deterministic_algorithms(False)
    assert torch.equal(first, second)


def test_deterministic_warn_and_off() -> None:
    try:
        trainer(deterministic="warn")
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        trainer(deterministic=False)
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)


def test_benchmark_flag_sets_cudnn_benchmark() -> None:
    saved = torch.backends.cudnn.benchmark
    try:
        trainer(benchmark=True)
        assert torch.backends.cudnn.benchmark is True
        trainer(benchmark=None)  # 1.6: keep the current value
        assert torch.backends.cudnn.benchmark is True
        trainer(benchmark=None, deterministic=True)  # ... but False when deterministic
        assert torch.backends.cudnn.benchmark is False
        trainer(benchmark=False)
        assert torch.backends.cudnn.benchmark is False
    finally:
        torch.backends.cudnn.benchmark = saved
        torch.use_deterministic_algorithms(False)
