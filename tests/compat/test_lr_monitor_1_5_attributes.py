"""LearningRateMonitor as 1.5 users read it: ``lr_sch_names``, ``last_momentum_values``, and parameter groups that a
finetuning callback adds during training (the frozen backbone's learning rate appears once it is unfrozen)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from trainer_core.callbacks import BaseFinetuning, LearningRateMonitor


class _Net(pl.LightningModule):
    def __init__(self, scheduler_name: str | None = None, momentum: float = 0.0) -> None:
        super().__init__()
        self.backbone = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 1)
        self.scheduler_name = scheduler_name
        self.momentum = momentum

    def training_step(self, batch, batch_idx):
        return self.head(self.backbone(batch)).pow(2).mean()

    def train_dataloader(self):
        return DataLoader(torch.randn(8, 4), batch_size=4)

    def configure_optimizers(self):
        params = [p for p in self.parameters() if p.requires_grad]
        optimizer = torch.optim.SGD(params, lr=0.4, momentum=self.momentum)
        scheduler = {"scheduler": torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)}
        if self.scheduler_name:
            scheduler["name"] = self.scheduler_name
        return [optimizer], [scheduler]


class _UnfreezeAtEpochOne(BaseFinetuning):
    def freeze_before_training(self, pl_module):
        self.freeze(pl_module.backbone)

    def finetune_function(self, pl_module, epoch, optimizer, opt_idx):
        if epoch == 1:
            self.unfreeze_and_add_param_group(pl_module.backbone, optimizer, lr=0.1)


def _fit(tmp_path, model, monitor, *callbacks, epochs=2):
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=epochs, log_every_n_steps=1,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[*callbacks, monitor])
    trainer.fit(model)
    return trainer


def test_scheduler_names_and_momentum_slots(tmp_path):
    monitor = LearningRateMonitor()
    _fit(tmp_path, _Net(scheduler_name="warmup"), monitor)
    assert monitor.lr_sch_names == ["warmup"]
    assert list(monitor.lrs) == ["warmup"]
    # log_momentum off: one slot per logged name, never filled
    assert monitor.last_momentum_values == {"warmup-momentum": None}


def test_last_momentum_values_hold_the_latest_momentum(tmp_path):
    monitor = LearningRateMonitor(log_momentum=True)
    _fit(tmp_path, _Net(momentum=0.9), monitor)
    assert monitor.lr_sch_names == ["lr-SGD"]
    assert monitor.last_momentum_values == {"lr-SGD-momentum": 0.9}


def test_param_group_added_during_training_is_logged_and_history_kept(tmp_path):
    monitor = LearningRateMonitor()
    _fit(tmp_path, _Net(), monitor, _UnfreezeAtEpochOne(), epochs=3)
    assert monitor.lr_sch_names == ["lr-SGD"]
    # epoch 0 logged one group as "lr-SGD"; from epoch 1 there are two, and the first keeps its history
    assert list(monitor.lrs) == ["lr-SGD/pg1", "lr-SGD/pg2"]
    assert monitor.lrs["lr-SGD/pg1"] == [0.4, 0.2, 0.1]
    assert monitor.lrs["lr-SGD/pg2"] == [0.1, 0.05]
