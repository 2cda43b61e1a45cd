"""A tiny classifier script and CSV data for runner and command-line tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

MODEL = '''
import torch
from torch import nn
from torch.nn import functional as F

import trainer_core as pl


class TinyClassifier(pl.LightningModule):
    def __init__(self, num_features: int = 2, num_classes: int = 3, lr: float = 0.1, name: str = "tiny"):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Linear(num_features, num_classes)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", F.cross_entropy(self(x), y))

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


if __name__ == "__main__":
    raise SystemExit("the loader must not run this")
'''


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with model.py (one LightningModule) and data.csv (2 features, 3 classes), made the cwd."""
    (tmp_path / "model.py").write_text(textwrap.dedent(MODEL))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(24, 2)).round(3)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    rows = ["f1,f2,label"] + [f"{a},{b},{c}" for (a, b), c in zip(x, y)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path
