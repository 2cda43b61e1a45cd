"""1.2/1.3 manual optimization passed the optimizer to ``manual_backward(loss, opt, retain_graph=True)``.

A real 1.3-era user module (a recommender trained with ``automatic_optimization = False``) does exactly that. 1.4
dropped the parameter, so the optimizer landed in ``loss.backward(gradient=...)`` and failed with a TypeError about
iterating the optimizer. The engine takes the old call: the optimizer is dropped with a deprecation warning and the
remaining arguments still reach ``backward``.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch.utils.data import DataLoader

from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer


class _OldManualBackward(BoringModel):
    def __init__(self) -> None:
        super().__init__()
        self.automatic_optimization = False

    def training_step(self, batch, batch_idx):
        opt = self.optimizers(use_pl_optimizer=True)
        loss = self(batch).sum()
        opt.zero_grad()
        self.manual_backward(loss, opt, retain_graph=True)  # the 1.2/1.3 signature
        loss.backward()  # only possible because retain_graph=True still reached backward
        opt.step()


def test_optimizer_passed_to_manual_backward_is_dropped_with_a_warning() -> None:
    model = _OldManualBackward()
    before = copy.deepcopy(model)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0)
    with pytest.warns(DeprecationWarning, match="manual_backward"):
        trainer.fit(model, DataLoader(RandomDataset(32, 8), batch_size=2))
    assert trainer.global_step == 2
    for param, old in zip(model.parameters(), before.parameters()):
        assert not torch.equal(param, old)
