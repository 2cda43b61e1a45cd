"""QuantizationAwareTraining (torch.ao.quantization): fake-quantized training, int8 model after fit."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import QuantizationAwareTraining
from trainer_core.exceptions import MisconfigurationError

QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
             num_sanity_val_steps=0)
X = torch.randn(32, 4, generator=torch.Generator().manual_seed(0))
Y = 0.1 * X.sum(dim=1, keepdim=True)


class Regressor(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        return F.mse_loss(self(x), y)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        x, y = batch
        self.log("val_loss", F.mse_loss(self(x), y))

    def configure_optimizers(self) -> Any:
        return torch.optim.Adam(self.parameters(), lr=0.01)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(X, Y), batch_size=8)

    val_dataloader = train_dataloader


class BeforeConversion(pl.Callback):
    output: torch.Tensor

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        pl_module.eval()
        with torch.no_grad():
            self.output = pl_module(X)
        pl_module.train()


@pytest.mark.parametrize("fuse", [None, [["net.0", "net.1"]]])
def test_qat_trains_and_converts_to_int8(fuse: Any) -> None:
    model = Regressor()
    before = BeforeConversion()
    qat = QuantizationAwareTraining(qconfig="fbgemm", modules_to_fuse=fuse)
    trainer = pl.Trainer(max_epochs=3, callbacks=[qat, before], **QUIET)
    trainer.fit(model)
    quantized = torch.ao.nn.quantized
    first = model.net[0]
    assert isinstance(first, torch.ao.nn.intrinsic.quantized.LinearReLU if fuse else quantized.Linear)
    assert isinstance(model.net[2], quantized.Linear)
    with torch.no_grad():
        after = model(X)  # float in, float out (input_compatible)
    assert after.dtype == torch.float32
    # the int8 model computes what the fake-quantized one learned, within quantization error
    assert F.mse_loss(after, Y) <= 1.5 * F.mse_loss(before.output, Y) + 1e-3
    assert F.mse_loss(before.output, Y) < F.mse_loss(torch.zeros_like(Y), Y)  # it did learn
    assert "val_loss" in trainer.callback_metrics


def test_qat_refuses_unknown_settings() -> None:
    with pytest.raises(MisconfigurationError, match="quantization backends"):
        QuantizationAwareTraining(qconfig="tensorrt")
    with pytest.raises(MisconfigurationError, match="observer_type"):
        QuantizationAwareTraining(observer_type="minmax")
    with pytest.raises(MisconfigurationError, match="unknown stage"):
        QuantizationAwareTraining(observer_enabled_stages=("training",))
