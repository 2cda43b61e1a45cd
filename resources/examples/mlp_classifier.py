"""MLP classifier on a small tabular dataset: the example the studio opens first.

The data is ``data/machine_health.csv`` (600 sensor readings of machines labelled healthy / worn / failing, written
by ``data/make_machine_health.py``). The model is a three-layer perceptron trained with cross-entropy.

Shows: ``save_hyperparameters``, ``self.log(..., prog_bar=True)``, ``example_input_array`` (the weights summary
prints input/output shapes), dataloader methods that read ``hparams.batch_size`` (so the batch-size finder can
change it) and an optimizer built from ``hparams.lr`` (so the LR finder can change it), and early stopping plus
best-model checkpointing declared by the model itself in ``configure_callbacks``.

Run it:
    python -m trainer_core fit --model resources/examples/mlp_classifier.py \
        --config resources/examples/mlp_classifier.yaml
    python -m trainer_core tune --model resources/examples/mlp_classifier.py \
        --config resources/examples/mlp_classifier.yaml
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import EarlyStopping, ModelCheckpoint

CSV_PATH = Path(__file__).resolve().parent / "data" / "machine_health.csv"


class MachineHealthClassifier(pl.LightningModule):
    """Predicts a machine's state (0 healthy, 1 worn, 2 failing) from six sensor readings."""

    def __init__(self, hidden_size: int = 64, dropout: float = 0.1, lr: float = 1e-2, batch_size: int = 32,
                 val_fraction: float = 0.2):
        super().__init__()
        # Every argument lands in self.hparams, in hparams.yaml and in checkpoints, so a run can be rebuilt later.
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Linear(6, hidden_size),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, 3),
        )
        # One fake batch of 4 rows: the weights summary runs it through forward() to show in/out shapes.
        self.example_input_array = torch.zeros(4, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # raw class scores (logits)

    # ---- data -------------------------------------------------------------------------------------------------
    def setup(self, stage=None):
        # Read the CSV once; columns 0-5 are features, column 6 is the label.
        table = np.loadtxt(CSV_PATH, delimiter=",", skiprows=1, dtype=np.float32)
        x, y = torch.from_numpy(table[:, :6]), torch.from_numpy(table[:, 6]).long()
        n_val = int(len(x) * self.hparams.val_fraction)
        # Standardise with statistics of the training part only, so validation stays unseen.
        mean, std = x[n_val:].mean(0), x[n_val:].std(0)
        x = (x - mean) / std
        self.val_set = TensorDataset(x[:n_val], y[:n_val])
        self.train_set = TensorDataset(x[n_val:], y[n_val:])

    def train_dataloader(self):
        # The batch-size finder rewrites hparams.batch_size and calls this method again.
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)

    def predict_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)

    # ---- steps ------------------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        # Logged per batch, averaged over the epoch (weighted by batch size) because on_epoch is the default here.
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(dim=1) == y).float().mean(), prog_bar=True)

    def predict_step(self, batch, batch_idx, dataloader_idx=None):
        x, _ = batch
        return self(x).argmax(dim=1)

    def configure_optimizers(self):
        # The LR finder sweeps the learning rate by wrapping this optimizer; "Apply LR" writes hparams.lr.
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr, weight_decay=1e-4)

    def configure_callbacks(self):
        # Callbacks the model always wants: stop when validation loss stalls, keep the best weights.
        return [
            EarlyStopping(monitor="val_loss", mode="min", patience=5),
            ModelCheckpoint(monitor="val_acc", mode="max", save_top_k=1, save_last=True,
                            filename="{epoch}-{val_acc:.3f}"),
        ]


if __name__ == "__main__":
    # Also runnable as a plain script: python resources/examples/mlp_classifier.py
    pl.seed_everything(0)
    trainer = pl.Trainer(max_epochs=30)
    trainer.fit(MachineHealthClassifier())
