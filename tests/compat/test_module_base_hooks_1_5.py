"""LightningModule defines the 1.5 step, epoch-end and dataloader hooks on the base class.

1.x modules call ``super().validation_epoch_end(outputs)`` and the like, and 1.x code tells "no loader defined" from a
real error by the start of the message. Defining the defaults must not switch anything on: a module without
``validation_step`` still trains without validation.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core import MisconfigurationError


class _Base(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.seen: list[str] = []

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)


class _CallsSuper(_Base):
    def training_step_end(self, out):
        return super().training_step_end(out)

    def training_epoch_end(self, outputs):
        self.seen.append("train")
        super().training_epoch_end(outputs)

    def validation_step(self, batch, batch_idx):
        out = super().validation_step(batch, batch_idx)
        return {"base": out, "x": self.layer(batch[0]).sum()}

    def validation_step_end(self, out):
        return super().validation_step_end(out)

    def validation_epoch_end(self, outputs):
        self.seen.append(f"val:{len(outputs)}:{outputs[0]['base']}")
        super().validation_epoch_end(outputs)

    def val_dataloader(self):
        return DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)


def _trainer(tmp_path, **kwargs) -> pl.Trainer:
    return pl.Trainer(default_root_dir=tmp_path, max_epochs=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False, **kwargs)


def test_super_calls_to_step_and_epoch_end_hooks_work(tmp_path):
    model = _CallsSuper()
    _trainer(tmp_path, num_sanity_val_steps=0).fit(model)
    # the base validation_step returns None; *_step_end hands the output on; *_epoch_end are no-ops
    assert model.seen == ["val:2:None", "train"]


def test_hooks_are_defined_on_the_base_class():
    for name in ("training_step_end", "training_epoch_end", "validation_step", "validation_step_end",
                 "validation_epoch_end", "test_step", "test_step_end", "test_epoch_end", "train_dataloader",
                 "val_dataloader", "test_dataloader", "predict_dataloader"):
        assert callable(getattr(pl.LightningModule, name, None)), name


@pytest.mark.parametrize("kind", ["train", "val", "test", "predict"])
def test_base_dataloader_hooks_say_they_must_be_implemented(kind):
    with pytest.raises(MisconfigurationError, match=f"^`{kind}_dataloader` must be implemented"):
        getattr(pl.LightningModule(), f"{kind}_dataloader")()


def test_base_defaults_switch_nothing_on(tmp_path):
    model = _Base()
    trainer = _trainer(tmp_path)
    trainer.fit(model)  # no validation_step / val_dataloader: no validation, no error from the base loaders
    assert trainer.global_step == 2
    assert trainer.num_val_batches in ([], [0], 0)


def test_transfer_hook_assigned_on_the_instance_is_called_on_cpu(tmp_path):
    model = _Base()
    seen: list[int] = []

    def on_before_batch_transfer(batch, dataloader_idx):
        seen.append(dataloader_idx)
        return batch

    model.on_before_batch_transfer = on_before_batch_transfer
    _trainer(tmp_path).fit(model)
    assert seen == [0, 0]
