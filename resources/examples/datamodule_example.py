"""A LightningDataModule: all the data code of a project in one reusable class, separate from the model.

``CurveDataModule`` owns the data of a 1-D regression problem (noisy samples of ``sin(3x) + 0.3 x^2``):
``prepare_data`` writes the samples once to an ``.npz`` file (where a real project would download), ``setup(stage)``
loads the file and builds only the splits the stage needs, and the four ``*_dataloader`` methods serve them.
``CurveRegressor`` is a plain model with no data code at all, so it can be trained on any datamodule with the same
batch layout ``(x, y)``.

The data module owns ``batch_size`` (the batch-size finder looks at the model, its hparams, then the datamodule) and
the model owns ``lr`` (for the LR finder).

Run it (``--data SCRIPT:CLASS`` names the datamodule; this file holds both classes):
    python -m trainer_core fit --model resources/examples/datamodule_example.py:CurveRegressor \\
        --data resources/examples/datamodule_example.py:CurveDataModule \
        --config resources/examples/datamodule_example.yaml
    python -m trainer_core test --model resources/examples/datamodule_example.py:CurveRegressor \\
        --data resources/examples/datamodule_example.py:CurveDataModule --ckpt_path PATH/TO/best.ckpt
"""

import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import EarlyStopping, ModelCheckpoint


class CurveDataModule(pl.LightningDataModule):
    """Noisy samples of a curve, split 70 / 15 / 15 into train, validation and test."""

    def __init__(self, num_samples: int = 2000, noise: float = 0.1, batch_size: int = 64, data_dir: str | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.batch_size = batch_size  # the batch-size finder reads and writes this attribute
        base = data_dir or os.environ.get("TRAINING_STUDIO_CACHE") or tempfile.gettempdir()
        self.path = Path(base) / f"curve-{num_samples}-{noise}.npz"

    def prepare_data(self):
        # Runs once per machine before setup; only writes files, never sets state (setup may run in other processes).
        if self.path.exists():
            return
        rng = np.random.default_rng(0)
        x = rng.uniform(-2, 2, size=(self.hparams.num_samples, 1)).astype(np.float32)
        y = (np.sin(3 * x) + 0.3 * x**2 + rng.normal(0, self.hparams.noise, x.shape)).astype(np.float32)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp-{os.getpid()}.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, self.path)  # atomic: a concurrent run never reads half a file

    def setup(self, stage=None):
        # stage is "fit", "validate", "test", "predict" or None (everything).
        data = np.load(self.path)
        x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
        n_train, n_val = int(0.7 * len(x)), int(0.15 * len(x))
        if stage in ("fit", "validate", None):
            self.train_set = TensorDataset(x[:n_train], y[:n_train])
            self.val_set = TensorDataset(x[n_train:n_train + n_val], y[n_train:n_train + n_val])
        if stage in ("test", "predict", None):
            self.test_set = TensorDataset(x[n_train + n_val:], y[n_train + n_val:])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=512)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=512)

    def predict_dataloader(self):
        return DataLoader(self.test_set, batch_size=512)


class CurveRegressor(pl.LightningModule):
    """A small MLP fitting y = f(x); knows nothing about where batches come from."""

    def __init__(self, hidden_size: int = 64, lr: float = 5e-3):
        super().__init__()
        self.save_hyperparameters()
        self.lr = lr  # the LR finder reads and writes this attribute
        self.net = nn.Sequential(nn.Linear(1, hidden_size), nn.Tanh(), nn.Linear(hidden_size, hidden_size), nn.Tanh(),
                                 nn.Linear(hidden_size, 1))
        self.example_input_array = torch.zeros(8, 1)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self(x), y)
        self.log("train_mse", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_mse", F.mse_loss(self(x), y), prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_mse", F.mse_loss(self(x), y))

    def predict_step(self, batch, batch_idx, dataloader_idx=None):
        x, _ = batch
        return self(x)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)

    def configure_callbacks(self):
        return [
            EarlyStopping(monitor="val_mse", patience=3, min_delta=1e-4),
            ModelCheckpoint(monitor="val_mse", save_top_k=1, filename="best"),
        ]


if __name__ == "__main__":
    pl.seed_everything(0)
    datamodule = CurveDataModule()
    model = CurveRegressor()
    trainer = pl.Trainer(max_epochs=30)
    trainer.fit(model, datamodule=datamodule)
    trainer.test(model, datamodule=datamodule, ckpt_path="best")
