"""0.x-1.2 modules take an argparse Namespace and assign it: ``def __init__(self, hparams): self.hparams = hparams``
(the setter went in 1.3, so such scripts failed with "property 'hparams' ... has no setter"). The values must reach
``self.hparams``, the checkpoint, and ``load_from_checkpoint``, which rebuilds the module with one ``hparams`` object
as 1.x did."""

from __future__ import annotations

from argparse import Namespace

import pytest
import torch
from torch import nn

import trainer_core as pl
from tests.helpers.boring_model import RandomDataset, quiet_trainer


class _NamespaceModule(pl.LightningModule):
    def __init__(self, hparams: Namespace) -> None:
        super().__init__()
        self.hparams = hparams
        self.layer = nn.Linear(32, self.hparams.hidden)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        return self.layer(batch).sum() * self.hparams["scale"]

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        return torch.utils.data.DataLoader(RandomDataset(32, 8), batch_size=4)


def test_assigned_namespace_is_the_hparams_and_survives_a_checkpoint(tmp_path) -> None:
    with pytest.deprecated_call(match="save_hyperparameters"):
        model = _NamespaceModule(Namespace(hidden=3, lr=0.1, scale=2.0))
    assert model.hparams == {"hidden": 3, "lr": 0.1, "scale": 2.0}
    assert model.hparams_initial.hidden == 3
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2)
    trainer.fit(model)
    path = tmp_path / "namespace.ckpt"
    trainer.save_checkpoint(path)
    restored = _NamespaceModule.load_from_checkpoint(str(path))
    assert restored.hparams.lr == 0.1 and restored.layer.out_features == 3
    torch.testing.assert_close(restored.layer.weight, model.layer.weight)


def test_assignment_replaces_what_was_there() -> None:
    class _Replacing(_NamespaceModule):
        def __init__(self, hparams: dict) -> None:
            super().__init__(Namespace(hidden=1, lr=0.5, scale=1.0))
            self.hparams = hparams

    model = _Replacing({"hidden": 1, "lr": 0.01, "scale": 3.0})
    assert model.hparams == {"hidden": 1, "lr": 0.01, "scale": 3.0}
