"""My project: a LightningModule to edit. Written by Training Studio's "New project" action.

How the studio (and ``python -m trainer_core fit --model THIS_FILE.py``) uses this file:
  * it imports the file and finds the LightningModule subclass below (keep one, or pick one by name);
  * the constructor's arguments become editable fields ("model arguments"); give each a default value;
  * the Trainer flags (epochs, precision, devices, ...) are set in the studio's forms, not here;
  * data comes from this class's ``*_dataloader`` methods, or from a data file / folder / LightningDataModule that
    you choose in the studio (``--data PATH`` on the command line), which then replaces them.

Everything below runs as it is (random data, a tiny network), so you can press Fit first and edit afterwards.
Lines marked TODO are the places most projects change.
"""

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl  # the Lightning 1.x API: code written for `import pytorch_lightning as pl` runs unchanged


class MyModel(pl.LightningModule):
    """TODO: say what the model learns."""

    def __init__(self, in_features: int = 16, hidden_size: int = 64, num_classes: int = 4, lr: float = 1e-3,
                 batch_size: int = 32):
        super().__init__()
        # Stores every argument in self.hparams, hparams.yaml and the checkpoints, so runs can be compared and rebuilt.
        # `lr` and `batch_size` are the names the studio's LR finder and batch-size finder look for.
        self.save_hyperparameters()
        # TODO: build your layers.
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, num_classes),
        )
        # One example batch: the weights summary passes it through forward() to show each layer's output shape.
        self.example_input_array = torch.zeros(2, in_features)

    def forward(self, x):
        # Inference: what you call on new data after training (self(x) inside the steps below).
        return self.net(x)

    # ---- data (optional when you pick a data file or DataModule in the studio) -----------------------------------
    def setup(self, stage=None):
        # Called before each stage ("fit", "validate", "test", "predict"): load or build datasets here.
        # TODO: replace the random tensors with your data.
        g = torch.Generator().manual_seed(0)
        x = torch.randn(1000, self.hparams.in_features, generator=g)
        y = x[:, : self.hparams.num_classes].argmax(dim=1)  # a learnable rule, so the loss goes down
        self.train_set = TensorDataset(x[:800], y[:800])
        self.val_set = TensorDataset(x[800:], y[800:])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=256)

    # ---- steps ----------------------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        # prog_bar=True shows the value in the progress bar; every logged value is plotted by the studio.
        self.log("train_loss", loss, prog_bar=True)
        return loss  # the trainer runs backward() and the optimizer step

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        # Logged per batch, averaged over the validation epoch.
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(dim=1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        # TODO: pick an optimizer; return (optimizers, schedulers) or a dict to add a learning-rate schedule.
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)

    # Optional: callbacks this model always wants, for example
    # def configure_callbacks(self):
    #     from trainer_core.callbacks import EarlyStopping
    #     return [EarlyStopping(monitor="val_loss", patience=3)]


if __name__ == "__main__":
    # Runs without the studio too: python THIS_FILE.py
    trainer = pl.Trainer(max_epochs=5)
    trainer.fit(MyModel())
