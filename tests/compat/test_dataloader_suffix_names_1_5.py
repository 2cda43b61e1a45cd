"""With several evaluation loaders, a metric logged with ``on_step=True, on_epoch=True`` is named as 1.5 names it:
the ``_step``/``_epoch`` fork goes before the loader suffix (``loss_epoch/dataloader_idx_0``), so scripts and
monitors written for 1.5 find the keys (found by Lightning 1.5's test_eval_loop_logging)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

import trainer_core as pl


class _TwoTestLoaders(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)

    def test_step(self, batch, batch_idx, dataloader_idx=0):
        self.log("loss", self.layer(batch).pow(2).mean(), on_step=True, on_epoch=True)

    def test_dataloader(self):
        return [DataLoader(torch.randn(4, 3), batch_size=2), DataLoader(torch.randn(4, 3), batch_size=2)]


def test_forked_names_put_the_loader_suffix_last(tmp_path):
    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
                         enable_model_summary=False)
    results = trainer.test(_TwoTestLoaders(), verbose=False)
    for idx, result in enumerate(results):
        assert set(result) == {f"loss/dataloader_idx_{idx}", f"loss_epoch/dataloader_idx_{idx}"}
    assert {"loss_epoch/dataloader_idx_0", "loss_epoch/dataloader_idx_1"} <= set(trainer.callback_metrics)


def test_step_names_reach_the_logger_with_the_suffix_last(tmp_path):
    trainer = pl.Trainer(default_root_dir=tmp_path, enable_progress_bar=False, enable_model_summary=False)
    trainer.test(_TwoTestLoaders(), verbose=False)
    assert {"loss_step/dataloader_idx_0", "loss_step/dataloader_idx_1"} <= set(trainer.logged_metrics)
