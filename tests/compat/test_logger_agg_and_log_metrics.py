"""A 1.x custom logger overriding only ``agg_and_log_metrics`` (1.5's entry point from the trainer) gets the rows."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from tests.helpers.list_logger import ListLogger
from trainer_core.utilities import rank_zero_only


class AggregatingLogger(ListLogger):
    """Collects rows in agg_and_log_metrics alone, as some 1.x loggers did to batch their writes."""

    @rank_zero_only
    def agg_and_log_metrics(self, metrics, step=None) -> None:  # noqa: ANN001
        self.rows.append((step, dict(metrics)))

    def log_metrics(self, metrics, step=None) -> None:  # noqa: ANN001
        raise AssertionError("1.5's trainer calls agg_and_log_metrics; the base's version calls log_metrics")


class Regressor(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        x = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=4)


def test_the_trainer_logs_through_agg_and_log_metrics(tmp_path) -> None:
    logger = AggregatingLogger()
    trainer = pl.Trainer(max_epochs=1, logger=logger, log_every_n_steps=2, default_root_dir=str(tmp_path),
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(Regressor())
    steps = [step for step, row in logger.rows if "train_loss" in row]
    assert steps == [1, 3], "one row per logging step (every 2nd of 4), through agg_and_log_metrics"
