"""1.x scripts call ``trainer.test()`` (or ``trainer.test(ckpt_path=None)``) after ``fit``: without a model that
means the best checkpoint (1.5). The log line said "pass ckpt_path=None to use the current weights", which does the
same thing again; the way to the current weights is passing the model."""

from __future__ import annotations

import logging

import pytest
import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer


def test_the_hint_names_passing_the_model(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    model = BoringModel()
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1, limit_test_batches=1,
                            enable_checkpointing=True, default_root_dir=tmp_path)
    trainer.fit(model)
    with caplog.at_level(logging.INFO):
        trainer.test(ckpt_path=None)
    line = next(r.getMessage() for r in caplog.records if "loads the best checkpoint" in r.getMessage())
    assert "trainer.test(model)" in line and "pass ckpt_path=None" not in line
    weights = model.layer.weight.detach().clone()
    trainer.test(model)  # the hinted call: current weights, nothing loaded
    torch.testing.assert_close(model.layer.weight, weights)
