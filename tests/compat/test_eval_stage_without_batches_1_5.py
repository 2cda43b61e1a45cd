"""validate()/test() with no batch to run (limit_*_batches=0) skip the evaluation as 1.5 does.

1.5 neither switches the model to eval mode nor calls the start/epoch/end hooks then, and returns no results; a
callback counting validation epochs, or a ``validation_epoch_end`` that indexes its outputs, saw an empty run before.
"""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


class _Model(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.called: list[str] = []

    def _loader(self):
        return DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)

    val_dataloader = test_dataloader = _loader

    def validation_step(self, batch, batch_idx):
        return self.layer(batch[0]).sum()

    test_step = validation_step

    def validation_epoch_end(self, outputs):
        self.called.append(f"validation_epoch_end:{len(outputs)}")

    def test_epoch_end(self, outputs):
        self.called.append(f"test_epoch_end:{len(outputs)}")


class _Recorder(pl.Callback):
    def __init__(self) -> None:
        self.called: list[str] = []

    def on_validation_start(self, trainer, pl_module):
        self.called.append("on_validation_start")

    def on_test_start(self, trainer, pl_module):
        self.called.append("on_test_start")

    def on_epoch_start(self, trainer, pl_module):
        self.called.append("on_epoch_start")


@pytest.mark.parametrize("stage", ["validate", "test"])
@pytest.mark.parametrize("batches", [0, 2])
def test_evaluation_without_batches_is_skipped(tmp_path, stage, batches):
    model, recorder = _Model(), _Recorder()
    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[recorder], limit_val_batches=batches,
                         limit_test_batches=batches)
    model.train()
    results = getattr(trainer, stage)(model, verbose=False)
    if batches:
        noun = "validation" if stage == "validate" else "test"
        assert recorder.called == [f"on_{noun}_start", "on_epoch_start"]
        assert model.called == [f"{noun}_epoch_end:2"]
        assert len(results) == 1
    else:
        assert recorder.called == []
        assert model.called == []
        assert results == []
    assert model.training
