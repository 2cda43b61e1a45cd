"""LSTM sequence model trained with truncated backpropagation through time (TBPTT).

Task: each sequence is a sum of two sines with random frequencies and phases plus noise; at every time step the
model predicts the value 8 steps ahead, which it can only do once it has inferred the waves from the past.
Sequences are 120 steps long and ``truncated_bptt_steps = 30`` makes the trainer cut each batch into 4 chunks
along the time axis (dim 1: batch first, time second). For every chunk it calls
``training_step(chunk, batch_idx, hiddens)`` and takes one optimizer step; ``hiddens`` is None for the first chunk
of a batch and afterwards whatever the previous chunk returned, detached from the graph by the trainer, so the
memory of a step does not grow with the sequence length. Validation is not split: it runs whole sequences.

Shows: the Lightning 1.x TBPTT contract (``truncated_bptt_steps`` attribute, ``hiddens`` argument, a step that
returns ``{"loss", "hiddens"}``), a ReduceLROnPlateau scheduler that monitors a validation metric, and the flags in
``lstm_tbptt.yaml`` turn on the simple profiler (the studio shows its table) and save the last checkpoint.

Run it:
    python -m trainer_core fit --model resources/examples/lstm_tbptt.py --config resources/examples/lstm_tbptt.yaml
"""

import math

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import ModelCheckpoint

HORIZON = 8  # predict 8 steps ahead: the model must infer each wave's frequencies and phases from what it has seen


def make_sequences(n: int, length: int, seed: int, horizon: int = HORIZON) -> tuple[torch.Tensor, torch.Tensor]:
    """Return inputs and the values ``horizon`` steps later, both of shape (n, length, 1)."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length + horizon, dtype=torch.float32)
    freq = 0.05 + 0.25 * torch.rand(n, 2, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 2, 1, generator=g)
    wave = torch.sin(freq * t + phase).sum(dim=1) / 2  # (n, length + 1)
    wave = wave + 0.03 * torch.randn(wave.shape, generator=g)
    return wave[:, :length, None], wave[:, horizon:, None]


class SineForecaster(pl.LightningModule):
    """One-layer LSTM + linear read-out predicting a sequence's value HORIZON steps ahead."""

    def __init__(self, hidden_size: int = 48, tbptt_steps: int = 30, lr: float = 1e-2, batch_size: int = 32,
                 seq_len: int = 120):
        super().__init__()
        self.save_hyperparameters()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)
        # The module attribute that switches TBPTT on (Lightning 1.3+): chunk length along dim 1.
        self.truncated_bptt_steps = tbptt_steps
        self.example_input_array = torch.zeros(2, seq_len, 1)

    def forward(self, x, hiddens=None):
        out, hiddens = self.lstm(x, hiddens)  # hiddens None -> zero initial state
        return self.head(out), hiddens

    def setup(self, stage=None):
        x, y = make_sequences(512, self.hparams.seq_len, seed=0)
        self.train_set = TensorDataset(x[64:], y[64:])
        self.val_set = TensorDataset(x[:64], y[:64])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=64)

    def training_step(self, batch, batch_idx, hiddens):
        # `batch` is one time chunk (x[:, t:t+30], y[:, t:t+30]); `hiddens` carries the LSTM state across chunks.
        x, y = batch
        pred, hiddens = self(x, hiddens)
        loss = F.mse_loss(pred, y)
        self.log("train_mse", loss, prog_bar=True)
        # TBPTT contract: return the loss and the state the next chunk should start from.
        return {"loss": loss, "hiddens": hiddens}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        pred, _ = self(x)  # whole sequence, fresh state
        self.log("val_mse", F.mse_loss(pred, y), prog_bar=True)

    def configure_optimizers(self):
        optimizer = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        # Halve the rate when val_mse stops improving; a monitored scheduler needs the metric name.
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "monitor": "val_mse"}}

    def configure_callbacks(self):
        return [ModelCheckpoint(monitor="val_mse", save_last=True, filename="{epoch}-{val_mse:.4f}")]


if __name__ == "__main__":
    pl.seed_everything(0)
    trainer = pl.Trainer(max_epochs=12, profiler="simple")
    trainer.fit(SineForecaster())
