"""Tiny models and data shared by the training-technique tests (Lightning's BoringModel, made small)."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from tests.helpers.boring_model import RandomDataset  # noqa: F401  (re-exported for the tests)
from trainer_core.loggers import Logger

QUIET: dict[str, Any] = {
    "logger": False,
    "enable_checkpointing": False,
    "enable_progress_bar": False,
    "enable_model_summary": False,
}


class BoringModel(pl.LightningModule):
    """Linear(32 -> 2), loss = MSE to ones, SGD lr 0.1 (Lightning's test harness, with configurable sizes)."""

    def __init__(self, batch_size: int = 1, length: int = 64, lr: float = 0.1) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(32, 2)
        self.batch_size = batch_size
        self.length = length
        self.lr = lr

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)

    def loss(self, out: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.mse_loss(out, torch.ones_like(out))

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        return {"loss": self.loss(self(batch))}

    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        return {"x": self.loss(self(batch))}

    def test_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        return {"y": self.loss(self(batch))}

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.layer.parameters(), lr=self.lr)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length), batch_size=self.batch_size)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length, seed=1), batch_size=self.batch_size)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, self.length, seed=2), batch_size=self.batch_size)


def trainer(**flags: Any) -> pl.Trainer:
    """A Trainer with no progress bar, logger, checkpoints or summary unless the test asks for them."""
    return pl.Trainer(**{**QUIET, **flags})


class RecordingLogger(Logger):
    """Keeps every ``log_metrics`` call as ``(step, metrics)``."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int | None, dict[str, float]]] = []

    @property
    def name(self) -> str:
        return "recording"

    @property
    def version(self) -> int:
        return 0

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.calls.append((step, dict(metrics)))

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass
