"""A value logged in ``on_train_epoch_end`` is already in ``callback_metrics`` and ``progress_bar_metrics`` when
``on_epoch_end`` runs, as in 1.5 (a callback reading it there got a KeyError; found by Lightning 1.5's
test_train_loop_logging)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

import trainer_core as pl


class _Net(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch).pow(2).mean()

    def on_train_epoch_end(self):
        self.log("epoch_score", float(self.current_epoch) + 0.5, prog_bar=True)

    def train_dataloader(self):
        return DataLoader(torch.randn(4, 3), batch_size=2)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class _ReadsAtEpochEnd(pl.Callback):
    def __init__(self) -> None:
        self.seen: list[tuple[float, float]] = []

    def on_epoch_end(self, trainer, pl_module):
        self.seen.append((float(trainer.callback_metrics["epoch_score"]), trainer.progress_bar_metrics["epoch_score"]))


def test_on_epoch_end_sees_what_on_train_epoch_end_logged(tmp_path):
    reader = _ReadsAtEpochEnd()
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[reader])
    trainer.fit(_Net())
    assert reader.seen == [(0.5, 0.5), (1.5, 1.5)]
