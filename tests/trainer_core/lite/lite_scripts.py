"""Lite subclasses for the tests (importable by spawned workers)."""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from trainer_core.lite import LightningLite


def regression_data(n: int = 16) -> TensorDataset:
    x = torch.randn(n, 4, generator=torch.Generator().manual_seed(0))
    return TensorDataset(x, x.sum(dim=1, keepdim=True))


def make_model() -> torch.nn.Module:
    torch.manual_seed(1)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))


def plain_loop(epochs: int, batch_size: int) -> list[float]:
    """The same training written in plain PyTorch: the reference a Lite run in one process must equal."""
    model = make_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(epochs):
        for x, y in DataLoader(regression_data(), batch_size=batch_size):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


class RegressionLite(LightningLite):
    def run(self, epochs: int, batch_size: int = 4) -> dict[str, Any]:
        model = make_model()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        model, optimizer = self.setup(model, optimizer)
        loader = self.setup_dataloaders(DataLoader(regression_data(), batch_size=batch_size))
        losses, seen = [], []
        for _ in range(epochs):
            for x, y in loader:
                optimizer.zero_grad()
                loss = F.mse_loss(model(x), y)
                self.backward(loss)
                optimizer.step()
                losses.append(loss.item())
                seen.append(x[:, 0].tolist())
        gathered = self.all_gather(torch.tensor([float(self.global_rank)]))
        self.barrier()
        weight = model.module[0].weight.detach().clone()
        return {"losses": losses, "seen": seen, "gathered": gathered.tolist(), "world_size": self.world_size,
                "weights": self.all_gather(weight).tolist(), "state_keys": sorted(model.state_dict())}
