"""A 1.x script fits with ``stochastic_weight_avg=True`` and then calls ``trainer.test(...)``: the averaging
callback copies the module at every stage's start, and after the fit the module's trainer holds loggers with
threads ("cannot pickle '_thread.lock' object" before). Found with the real backbone_image_classifier script."""

from __future__ import annotations

import torch

import trainer_core as pl
from tests.helpers.boring_model import BoringModel


def test_test_after_a_fit_with_stochastic_weight_averaging(tmp_path) -> None:
    model = BoringModel()
    trainer = pl.Trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=2, limit_test_batches=2,
                         stochastic_weight_avg=True, enable_progress_bar=False, default_root_dir=tmp_path)
    trainer.fit(model)  # the default logger is on: its writer holds a lock
    results = trainer.test(model)
    assert "test_loss" in results[0]
    swa = next(cb for cb in trainer.callbacks if type(cb).__name__ == "StochasticWeightAveraging")
    copy = swa._average_model
    assert copy is not model and copy.trainer is None
    assert model.trainer is trainer
    torch.testing.assert_close(copy.layer.weight, model.layer.weight)
