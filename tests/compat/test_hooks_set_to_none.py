"""1.x scripts (Lightning's own bug-report template among them) switch hooks off by assigning None on the instance:
``model.val_dataloader = None``, ``model.training_epoch_end = None``. Fit must then run without them."""

from __future__ import annotations

import copy

import torch
from torch.utils.data import DataLoader

from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer


class _EpochEndModel(BoringModel):
    def training_epoch_end(self, outputs: list) -> None:
        raise AssertionError("training_epoch_end was set to None and must not run")


def test_fit_with_dataloader_and_epoch_end_hooks_set_to_none() -> None:
    model = _EpochEndModel()
    before = copy.deepcopy(model)
    model.val_dataloader = None
    model.training_epoch_end = None
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=4, limit_val_batches=2)
    trainer.fit(model, DataLoader(RandomDataset(32, 16), batch_size=2))
    assert trainer.global_step == 4
    assert trainer.num_val_batches == [] or sum(trainer.num_val_batches) == 0
    for param, old in zip(model.parameters(), before.parameters()):
        assert not torch.equal(param, old)


def test_test_dataloader_set_to_none_means_no_test_data() -> None:
    model = BoringModel()
    model.test_dataloader = None
    trainer = quiet_trainer()
    try:
        trainer.test(model)
    except Exception as err:  # the engine's "no test data" error, not a TypeError from calling None
        assert not isinstance(err, TypeError), err
        assert "test" in str(err).lower()
    else:
        raise AssertionError("test() without any test data should say so")
