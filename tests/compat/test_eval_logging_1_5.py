"""Evaluation logging as Lightning 1.5 does it (found by running 1.5's own test_eval_loop_logging):

- a value logged per evaluation step with ``prog_bar=True`` reaches ``trainer.progress_bar_metrics`` (the bar shows
  it while validating) but not ``callback_metrics``;
- the logger rows of evaluation steps, which use the evaluation step counter, carry no ``epoch`` key;
- every fit/validate/test starts with empty metrics, so after ``fit`` a ``test`` leaves only test metrics.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from tests.helpers.list_logger import ListLogger


class _Net(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)
        self.seen_in_bar: list[set[str]] = []

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch).pow(2).mean()
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_step_loss", self.layer(batch).pow(2).mean(), on_step=True, on_epoch=False, prog_bar=True)
        self.log("val_loss", self.layer(batch).pow(2).mean())

    def on_validation_batch_end(self, outputs, batch, batch_idx, dataloader_idx):
        self.seen_in_bar.append(set(self.trainer.progress_bar_metrics))

    def test_step(self, batch, batch_idx):
        self.log("test_loss", self.layer(batch).pow(2).mean())

    def train_dataloader(self):
        return DataLoader(torch.randn(4, 3), batch_size=2)

    val_dataloader = test_dataloader = train_dataloader

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _trainer(tmp_path, logger):
    return pl.Trainer(default_root_dir=tmp_path, max_epochs=1, num_sanity_val_steps=0, log_every_n_steps=1,
                      logger=logger, enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False)


def test_eval_step_prog_bar_value_reaches_the_bar_but_not_callback_metrics(tmp_path):
    model = _Net()
    trainer = _trainer(tmp_path, False)
    trainer.fit(model)
    assert model.seen_in_bar and all("val_step_loss" in seen for seen in model.seen_in_bar)
    assert "val_step_loss" in trainer.progress_bar_metrics
    assert "val_step_loss" not in trainer.callback_metrics
    assert "val_loss" in trainer.callback_metrics


def test_eval_step_logger_rows_carry_no_epoch_key(tmp_path):
    logger = ListLogger()
    trainer = _trainer(tmp_path, logger)
    trainer.fit(_Net())
    eval_rows = [metrics for _, metrics in logger.rows if "val_step_loss" in metrics]
    assert len(eval_rows) == 2
    assert all("epoch" not in metrics for metrics in eval_rows)
    # rows at the global step (training steps, epoch ends) still have it
    assert all("epoch" in metrics for _, metrics in logger.rows if "train_loss" in metrics or "val_loss" in metrics)


def test_test_after_fit_leaves_only_test_metrics(tmp_path):
    model = _Net()
    trainer = _trainer(tmp_path, False)
    trainer.fit(model)
    assert {"train_loss", "val_loss"} <= set(trainer.callback_metrics)
    trainer.test(model, verbose=False)
    assert set(trainer.callback_metrics) == {"test_loss"}
    assert set(trainer.logged_metrics) <= {"test_loss"}
    assert "val_step_loss" not in trainer.progress_bar_metrics
