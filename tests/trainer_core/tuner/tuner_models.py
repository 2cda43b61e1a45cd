"""Tiny modules for the tuner tests: a regression model, and an OOM oracle that fails above a batch size."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callback import Callback


def regression_data(n: int = 256, seed: int = 0) -> TensorDataset:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=gen)
    y = x @ torch.linspace(-1, 1, 8).unsqueeze(1) + 0.1 * torch.randn(n, 1, generator=gen)
    return TensorDataset(x, y)


class Regressor(pl.LightningModule):
    """Linear regression with SGD; reads ``self.lr`` and ``self.batch_size``."""

    def __init__(self, lr: float = 0.01, batch_size: int = 16, length: int = 256, shuffle: bool = True) -> None:
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
        self.lr = lr
        self.batch_size = batch_size
        self.length = length
        self.shuffle = shuffle

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(x), y))

    def configure_optimizers(self) -> Any:
        opt = torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)
        return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)]

    def train_dataloader(self) -> DataLoader:
        return DataLoader(regression_data(self.length), batch_size=self.batch_size, shuffle=self.shuffle)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(regression_data(64, seed=1), batch_size=16)


class OOMOracle(pl.LightningModule):
    """Raises ``torch.OutOfMemoryError`` in ``training_step`` when the batch holds more than ``threshold`` rows."""

    def __init__(self, threshold: int, batch_size: int = 2, length: int = 100_000, error: type = None) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.threshold = threshold
        self.batch_size = batch_size
        self.length = length
        self.error = error
        self.seen: list[int] = []
        self.largest = 0

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        (x,) = batch
        self.seen.append(len(x))
        self.largest = max(self.largest, len(x))
        if len(x) > self.threshold:
            if self.error is not None:
                raise self.error("something else broke")
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {len(x)} rows")
        return self.layer(x).pow(2).mean()

    def configure_optimizers(self) -> Any:
        return torch.optim.Adam(self.parameters(), lr=1e-3)

    def train_dataloader(self) -> DataLoader:
        # A range of indices: collating a batch of any size costs almost nothing.
        return DataLoader(_Rows(self.length), batch_size=self.batch_size, collate_fn=_first)


class _Rows(torch.utils.data.Dataset):
    def __init__(self, length: int) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor]]:
        return [(torch.zeros(len(indices), 4),)]

    def __getitem__(self, index: int) -> tuple[torch.Tensor]:
        return (torch.zeros(4),)


def _first(batch: list[Any]) -> Any:
    return batch[0]


class Telemetry(Callback):
    """Collects the tuner's telemetry points, noting how many points a batch had seen when each arrived."""

    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []
        self.trials: list[dict[str, Any]] = []
        self.fit_batches = 0

    def on_lr_find_point(self, trainer: Any, pl_module: Any, point: dict[str, float]) -> None:
        self.points.append(dict(point, global_step=trainer.global_step))

    def on_batch_size_trial(self, trainer: Any, pl_module: Any, trial: dict[str, Any]) -> None:
        self.trials.append(dict(trial))

    def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any, **kwargs: Any) -> None:
        self.fit_batches += 1


def quiet(**flags: Any) -> pl.Trainer:
    defaults = {"enable_progress_bar": False, "enable_model_summary": False, "logger": False,
                "enable_checkpointing": False, "max_epochs": 1}
    defaults.update(flags)
    return pl.Trainer(**defaults)
