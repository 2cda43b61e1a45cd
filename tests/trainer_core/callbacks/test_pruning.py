"""ModelPruning (torch.nn.utils.prune): amount schedule, global and per-layer pruning, lottery ticket reset,
make_pruning_permanent (also in saved checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.nn.utils import prune

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.callbacks import ModelCheckpoint, ModelPruning
from trainer_core.exceptions import MisconfigurationError

QUIET = dict(logger=False, enable_progress_bar=False, enable_model_summary=False, limit_train_batches=4,
             limit_val_batches=0, num_sanity_val_steps=0)


class Sparsity(pl.Callback):
    def __init__(self) -> None:
        self.per_epoch: list[float] = []

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        weight = pl_module.layer.weight
        self.per_epoch.append(float((weight == 0).float().mean()))


def test_amount_schedule_prunes_per_epoch_and_is_made_permanent(tmp_path: Path) -> None:
    pruning = ModelPruning("l1_unstructured", parameter_names=["weight"], amount=lambda epoch: [0.5, 0, 0.5][epoch],
                           use_lottery_ticket_hypothesis=False)
    sparsity = Sparsity()
    checkpoint = ModelCheckpoint(dirpath=str(tmp_path), save_last=True)
    model = BoringModel()
    trainer = pl.Trainer(max_epochs=3, callbacks=[pruning, sparsity, checkpoint], enable_checkpointing=True,
                         **QUIET)
    trainer.fit(model)
    # the callbacks run in order: pruning (epoch end) first, so the watcher sees each epoch's result
    assert sparsity.per_epoch == pytest.approx([0.5, 0.5, 0.75])
    assert not any(isinstance(h, prune.BasePruningMethod) for h in model.layer._forward_pre_hooks.values())
    assert "weight_orig" not in dict(model.layer.named_parameters())
    assert float((model.layer.weight == 0).float().mean()) == pytest.approx(0.75)
    saved = torch.load(tmp_path / "last.ckpt", weights_only=False)["state_dict"]
    assert "layer.weight" in saved and not any(key.endswith(("_orig", "_mask")) for key in saved)


def test_lottery_ticket_resets_surviving_weights_to_their_initial_values() -> None:
    model = BoringModel()
    initial = model.layer.weight.detach().clone()
    pruning = ModelPruning("random_unstructured", parameters_to_prune=[(model.layer, "weight")],
                           use_global_unstructured=False, amount=0.25, make_pruning_permanent=False)
    pl.Trainer(max_epochs=1, callbacks=[pruning], enable_checkpointing=False, **QUIET).fit(model)
    kept = model.layer.weight_mask.bool()
    assert int((~kept).sum()) == 16  # 25 % of 64
    assert torch.equal(model.layer.weight_orig[kept], initial[kept])


def test_structured_pruning_needs_dim_and_cannot_be_global() -> None:
    with pytest.raises(MisconfigurationError, match="needs pruning_dim"):
        ModelPruning("ln_structured", pruning_norm=2)
    with pytest.raises(MisconfigurationError, match="cannot be global"):
        ModelPruning("ln_structured", pruning_dim=0, pruning_norm=2)
    with pytest.raises(MisconfigurationError, match="give one of"):
        ModelPruning("l3_unstructured")
    model = BoringModel()
    pruning = ModelPruning("ln_structured", pruning_dim=0, pruning_norm=1, amount=1, use_global_unstructured=False,
                           parameter_names=["weight"], use_lottery_ticket_hypothesis=False)
    pl.Trainer(max_epochs=1, callbacks=[pruning], enable_checkpointing=False, **QUIET).fit(model)
    assert int((model.layer.weight.abs().sum(dim=1) == 0).sum()) == 1  # one whole output row pruned
