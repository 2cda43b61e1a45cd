"""The warnings Lightning 1.5 gives for suspicious set-ups (issue 14 item 38)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from helpers.boring_model import BoringModel, RandomDataset
from torch.utils.data import DataLoader

import trainer_core as pl
from trainer_core.callbacks import EarlyStopping


def _trainer(root: Path, **flags: Any) -> pl.Trainer:
    settings = {"default_root_dir": str(root), "logger": False, "enable_progress_bar": False,
                "enable_model_summary": False, "enable_checkpointing": False, "max_epochs": 1,
                "limit_train_batches": 4, "limit_val_batches": 2}
    settings.update(flags)
    return pl.Trainer(**settings)


def test_overfit_batches_with_a_shuffled_loader_warns_and_goes_sequential(tmp_path: Path) -> None:
    class Shuffled(BoringModel):
        def train_dataloader(self) -> DataLoader:
            return DataLoader(RandomDataset(32, 64), batch_size=4, shuffle=True)

    trainer = _trainer(tmp_path, overfit_batches=2, limit_train_batches=1.0, limit_val_batches=1.0)
    with pytest.warns(UserWarning, match="requested to overfit but enabled training dataloader shuffling"):
        trainer.fit(Shuffled())
    assert isinstance(trainer.train_dataloader.sampler, torch.utils.data.SequentialSampler)


def test_a_prog_bar_metric_named_loss_warns_once(tmp_path: Path, recwarn: pytest.WarningsRecorder) -> None:
    class LogsLoss(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            out = super().training_step(batch, batch_idx)
            self.log("loss", out["loss"], prog_bar=True)
            return out

    _trainer(tmp_path, enable_progress_bar=True, max_epochs=2).fit(LogsLoss())
    clashes = [w for w in recwarn if "already tracks a metric with the name(s) ['loss']" in str(w.message)]
    assert len(clashes) == 1


def test_a_train_dataloader_that_yields_none_warns_and_skips_the_batch(tmp_path: Path) -> None:
    class Gappy(BoringModel):
        steps = 0

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            Gappy.steps += 1
            return super().training_step(batch, batch_idx)

        def train_dataloader(self) -> Any:
            real = list(DataLoader(RandomDataset(32, 16), batch_size=4))
            return [real[0], None, real[1], None]

    trainer = _trainer(tmp_path)
    with pytest.warns(UserWarning, match="train_dataloader yielded None"):
        trainer.fit(Gappy())
    assert Gappy.steps == 2 and trainer.global_step == 2


def test_resuming_without_a_callback_whose_state_the_checkpoint_holds_warns(tmp_path: Path) -> None:
    first = _trainer(tmp_path, callbacks=[EarlyStopping(monitor="val_loss", patience=5)])
    first.fit(BoringModel())
    path = tmp_path / "with_es.ckpt"
    first.save_checkpoint(path)
    second = _trainer(tmp_path, max_epochs=2)
    with pytest.warns(UserWarning, match="holds the state of callbacks this Trainer does not have: EarlyStopping"):
        second.fit(BoringModel(), ckpt_path=str(path))
    assert second.current_epoch == 2


class _ManualWithScheduler(BoringModel):
    def __init__(self, scheduler_keys: dict[str, Any]) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.scheduler_keys = scheduler_keys

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        opt = self.optimizers()
        opt.zero_grad()
        loss = self(batch).sum()
        self.manual_backward(loss)
        opt.step()

    def configure_optimizers(self) -> Any:
        opt = torch.optim.SGD(self.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": scheduler, **self.scheduler_keys}}


def test_scheduler_keys_that_only_steer_the_trainer_warn_under_manual_optimization(tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning, match=r"key\(s\) \['frequency', 'interval'\], which are ignored under manual"):
        _trainer(tmp_path).fit(_ManualWithScheduler({"interval": "step", "frequency": 2}))


def test_a_plain_scheduler_dict_under_manual_optimization_does_not_warn(tmp_path: Path,
                                                                        recwarn: pytest.WarningsRecorder) -> None:
    _trainer(tmp_path).fit(_ManualWithScheduler({"name": "my-lr"}))
    assert not [w for w in recwarn if "ignored under manual" in str(w.message)]
