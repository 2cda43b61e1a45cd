"""``ProgressBarBase.total_val_batches`` is 0 during fit in an epoch that does not validate
(``check_val_every_n_epoch``), as 1.5 counts it for custom bars (found by Lightning 1.5's
test_check_val_every_n_epoch)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

import trainer_core as pl


class _Net(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)
        self.totals: list[int] = []

    def training_step(self, batch, batch_idx):
        return self.layer(batch).pow(2).mean()

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", self.layer(batch).pow(2).mean())

    def on_train_epoch_start(self):
        self.totals.append(self.trainer.progress_bar_callback.total_val_batches)

    def train_dataloader(self):
        return DataLoader(torch.randn(4, 3), batch_size=2)

    val_dataloader = train_dataloader

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_total_val_batches_counts_only_validating_epochs(tmp_path):
    model = _Net()
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=4, check_val_every_n_epoch=2, num_sanity_val_steps=0,
                         logger=False, enable_checkpointing=False, enable_model_summary=False)
    trainer.fit(model)
    assert model.totals == [0, 2, 0, 2]
    # outside fit (validate) every run counts its batches
    trainer.validate(model, verbose=False)
    assert trainer.progress_bar_callback.total_val_batches == 2
