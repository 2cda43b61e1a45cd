"""Resuming a fit that BaseFinetuning/BackboneFinetuning changed: the param groups added when the backbone was
unfrozen come back before the optimizer state is loaded, so a resumed fit ends exactly where the uninterrupted one
does (weights, every param group's hyper-parameters, momentum buffers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import BackboneFinetuning, BaseFinetuning, ModelCheckpoint
from trainer_core.exceptions import MisconfigurationError

QUIET = dict(logger=False, enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
             limit_val_batches=0)


class WithBackbone(pl.LightningModule):
    """A backbone with BatchNorm, a head; SGD with momentum and a step scheduler; shuffled data."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.backbone = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU())
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        return F.mse_loss(self(x), y)

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, self.parameters()), lr=0.1, momentum=0.9)
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)]

    def train_dataloader(self) -> DataLoader:
        x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(x, x.sum(dim=1, keepdim=True)), batch_size=4, shuffle=True)


class UnfreezeBackboneAt(BaseFinetuning):
    """A user's own finetuning callback, written the 1.x way."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def freeze_before_training(self, pl_module: Any) -> None:
        self.freeze(pl_module.backbone, train_bn=False)

    def finetune_function(self, pl_module: Any, epoch: int, optimizer: torch.optim.Optimizer, opt_idx: int) -> None:
        if epoch == self.epoch:
            self.unfreeze_and_add_param_group(pl_module.backbone, optimizer, lr=0.05, train_bn=True)


def _fit(root: Path, finetuning: BaseFinetuning, ckpt_path: Path | None = None) -> tuple[pl.Trainer, WithBackbone]:
    pl.seed_everything(7)
    model = WithBackbone()
    saver = ModelCheckpoint(dirpath=root / "checkpoints", save_top_k=-1, every_n_epochs=1)
    trainer = pl.Trainer(max_epochs=3, default_root_dir=root, callbacks=[finetuning, saver], **QUIET)
    trainer.fit(model, ckpt_path=None if ckpt_path is None else str(ckpt_path))
    return trainer, model


def _checkpoint_of_epoch(root: Path, epoch: int) -> Path:
    (path,) = (root / "checkpoints").glob(f"epoch={epoch}-*.ckpt")
    return path


def _assert_same_end(expected: tuple[pl.Trainer, WithBackbone], resumed: tuple[pl.Trainer, WithBackbone]) -> None:
    (trainer_a, model_a), (trainer_b, model_b) = expected, resumed
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=0, atol=1e-6, msg=f"{name} differs after resuming")
    state_a, state_b = trainer_a.optimizers[0].state_dict(), trainer_b.optimizers[0].state_dict()
    assert len(state_b["param_groups"]) == len(state_a["param_groups"]) == 2
    for group_a, group_b in zip(state_a["param_groups"], state_b["param_groups"]):
        assert group_b.pop("params") == group_a.pop("params")
        assert group_b == pytest.approx(group_a, abs=1e-6)
    assert state_b["state"].keys() == state_a["state"].keys()
    for index, entry in state_a["state"].items():
        torch.testing.assert_close(state_b["state"][index]["momentum_buffer"], entry["momentum_buffer"], rtol=0,
                                   atol=1e-6)
    # The backbone trains after the resume (freeze_before_training froze it again on the way in).
    assert model_b.backbone[0].weight.requires_grad
    assert trainer_b.lr_schedulers[0]["scheduler"].state_dict() == trainer_a.lr_schedulers[0]["scheduler"].state_dict()


@pytest.mark.parametrize("resume_epoch", [1, 0], ids=["after-the-unfreeze", "before-the-unfreeze"])
def test_backbone_finetuning_resumes_to_the_same_weights_and_optimizer_state(tmp_path: Path,
                                                                              resume_epoch: int) -> None:
    def finetuning() -> BackboneFinetuning:
        return BackboneFinetuning(unfreeze_backbone_at_epoch=1, lambda_func=lambda epoch: 1.5)

    whole = _fit(tmp_path / "whole", finetuning())
    resumed = _fit(tmp_path / "resumed", finetuning(), _checkpoint_of_epoch(tmp_path / "whole", resume_epoch))
    assert resumed[0].current_epoch == whole[0].current_epoch == 3
    _assert_same_end(whole, resumed)
    assert resumed[0].callbacks[0].previous_backbone_lr == pytest.approx(whole[0].callbacks[0].previous_backbone_lr)


def test_a_users_base_finetuning_subclass_resumes(tmp_path: Path) -> None:
    whole = _fit(tmp_path / "whole", UnfreezeBackboneAt(1))
    resumed = _fit(tmp_path / "resumed", UnfreezeBackboneAt(1), _checkpoint_of_epoch(tmp_path / "whole", 1))
    _assert_same_end(whole, resumed)


def test_the_checkpoint_keeps_the_param_groups_by_parameter_name(tmp_path: Path) -> None:
    _fit(tmp_path, UnfreezeBackboneAt(1))
    checkpoint = torch.load(_checkpoint_of_epoch(tmp_path, 1), weights_only=True)
    (state,) = [v for k, v in checkpoint["callbacks"].items() if k.startswith("UnfreezeBackboneAt")]
    groups = state["internal_optimizer_metadata"][0]
    assert [group["params"] for group in groups] == [
        ["head.weight", "head.bias"], ["backbone.0.weight", "backbone.0.bias", "backbone.1.weight", "backbone.1.bias"]]
    assert groups[1]["lr"] == pytest.approx(0.05)


def test_resuming_with_a_model_that_lacks_the_saved_parameters_names_them() -> None:
    finetuning = UnfreezeBackboneAt(1)
    finetuning.on_load_checkpoint(None, None, {"internal_optimizer_metadata": {0: [
        {"lr": 0.1, "params": ["head.weight", "head.bias"]}, {"lr": 0.05, "params": ["nowhere.weight"]}]}})
    model = WithBackbone()

    class OneOptimizer:
        optimizers = [torch.optim.SGD(model.head.parameters(), lr=0.1)]

    with pytest.raises(MisconfigurationError, match=r"parameters the model does not have: \['nowhere.weight'\]"):
        finetuning.on_fit_start(OneOptimizer(), model)
