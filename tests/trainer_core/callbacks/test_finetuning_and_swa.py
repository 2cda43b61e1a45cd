"""BackboneFinetuning (freeze, unfreeze at an epoch with the lr rules) and StochasticWeightAveraging (equals a
hand-written torch.optim.swa_utils loop with 1.5's timing on the same data)."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

import pytest
import torch
from torch.nn import functional as F
from torch.optim.swa_utils import SWALR
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import BackboneFinetuning, BaseFinetuning, StochasticWeightAveraging
from trainer_core.exceptions import MisconfigurationError

QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
             num_sanity_val_steps=0, limit_val_batches=0)


def dataset() -> TensorDataset:
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(0))
    return TensorDataset(x, x.sum(dim=1, keepdim=True))


class WithBackbone(pl.LightningModule):
    def __init__(self, batch_norm: bool = False) -> None:
        super().__init__()
        torch.manual_seed(1)
        layers: list[torch.nn.Module] = [torch.nn.Linear(4, 8)]
        if batch_norm:
            layers.append(torch.nn.BatchNorm1d(8))
        self.backbone = torch.nn.Sequential(*layers, torch.nn.ReLU())
        self.head = torch.nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        return F.mse_loss(self(x), y)

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(filter(lambda p: p.requires_grad, self.parameters()), lr=0.1)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(dataset(), batch_size=4)


class BackboneWatch(pl.Callback):
    def __init__(self) -> None:
        self.lrs: list[list[float]] = []
        self.frozen: list[bool] = []

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.lrs.append([group["lr"] for group in trainer.optimizers[0].param_groups])
        self.frozen.append(not pl_module.backbone[0].weight.requires_grad)


def test_backbone_finetuning_unfreezes_at_the_epoch_with_the_lr_rules() -> None:
    model = WithBackbone()
    start = model.backbone[0].weight.detach().clone()
    watch = BackboneWatch()
    finetuning = BackboneFinetuning(unfreeze_backbone_at_epoch=1, lambda_func=lambda epoch: 1.5,
                                    backbone_initial_ratio_lr=0.1)
    trainer = pl.Trainer(max_epochs=4, callbacks=[finetuning, watch], **QUIET)
    trainer.fit(model)
    assert watch.frozen == [True, False, False, False]
    assert [len(lrs) for lrs in watch.lrs] == [1, 2, 2, 2]
    assert [lrs[-1] for lrs in watch.lrs[1:]] == pytest.approx([0.01, 0.015, 0.0225])
    assert not torch.equal(model.backbone[0].weight, start)


def test_backbone_finetuning_needs_a_backbone_and_the_helpers_work() -> None:
    class NoBackbone(WithBackbone):
        def __init__(self) -> None:
            super().__init__()
            del self.backbone
            self.body = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU())

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.body(x))

    with pytest.raises(MisconfigurationError, match="backbone"):
        pl.Trainer(max_epochs=1, callbacks=[BackboneFinetuning()], **QUIET).fit(NoBackbone())
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    BaseFinetuning.freeze(net, train_bn=True)
    assert [p.requires_grad for p in net.parameters()] == [False, False, True, True]
    optimizer = torch.optim.SGD([net[1].weight], lr=1.0)
    BaseFinetuning.unfreeze_and_add_param_group(net, optimizer, initial_denom_lr=4.0)
    assert len(optimizer.param_groups) == 2 and optimizer.param_groups[1]["lr"] == 0.25
    assert len(optimizer.param_groups[1]["params"]) == 3  # the BN weight was held already


def hand_written_swa(batch_norm: bool, epochs: int, swa_start: int, swa_lr: float) -> WithBackbone:
    """The same training with torch.optim.swa_utils by hand: average at the start of epochs swa_start..last,
    SWALR from swa_start, averaged weights (and recomputed BatchNorm statistics) at the end."""
    model = WithBackbone(batch_norm)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    average, n_averaged, scheduler = deepcopy(model), 0, None
    for epoch in range(epochs):
        if epoch == swa_start:
            for group in optimizer.param_groups:
                group["initial_lr"] = swa_lr
            scheduler = SWALR(optimizer, swa_lr=[swa_lr], anneal_epochs=1, anneal_strategy="linear")
        if epoch >= swa_start:
            for avg, cur in zip(average.parameters(), model.parameters()):
                avg.detach().copy_(cur.detach() if n_averaged == 0 else avg + (cur - avg) / (n_averaged + 1))
            n_averaged += 1
        model.train()
        for x, y in DataLoader(dataset(), batch_size=4):
            optimizer.zero_grad()
            F.mse_loss(model(x), y).backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
    for avg, cur in zip(average.parameters(), model.parameters()):
        cur.detach().copy_(avg)
    if batch_norm:
        torch.optim.swa_utils.update_bn((x for x, _ in DataLoader(dataset(), batch_size=4)), model)
    return model


@pytest.mark.parametrize("batch_norm", [False, True])
def test_swa_equals_a_hand_written_swa_utils_loop(batch_norm: bool) -> None:
    model = WithBackbone(batch_norm)
    swa = StochasticWeightAveraging(swa_epoch_start=2, swa_lrs=0.05, annealing_epochs=1,
                                    annealing_strategy="linear")

    def sgd(self: WithBackbone) -> Any:
        return torch.optim.SGD(self.parameters(), lr=0.1)

    model.configure_optimizers = sgd.__get__(model)  # type: ignore[method-assign]
    pl.Trainer(max_epochs=4, callbacks=[swa], **QUIET).fit(model)
    expected = hand_written_swa(batch_norm, epochs=4, swa_start=1, swa_lr=0.05)
    assert int(swa.n_averaged) == 3
    for ours, theirs in zip(model.state_dict().values(), expected.state_dict().values()):
        assert torch.allclose(ours.float(), theirs.float(), atol=1e-6)


def test_swa_refuses_bad_arguments() -> None:
    with pytest.raises(MisconfigurationError, match="swa_epoch_start"):
        StochasticWeightAveraging(swa_epoch_start=1.5)
    with pytest.raises(MisconfigurationError, match="swa_lrs"):
        StochasticWeightAveraging(swa_lrs=-1.0)
    with pytest.raises(MisconfigurationError, match="annealing_strategy"):
        StochasticWeightAveraging(annealing_strategy="step")


def test_stochastic_weight_avg_flag_adds_the_callback() -> None:
    trainer = pl.Trainer(stochastic_weight_avg=True, **QUIET)
    assert sum(isinstance(cb, StochasticWeightAveraging) for cb in trainer.callbacks) == 1
    mine = StochasticWeightAveraging(swa_epoch_start=3)
    trainer = pl.Trainer(stochastic_weight_avg=True, callbacks=[mine], **QUIET)
    assert [cb for cb in trainer.callbacks if isinstance(cb, StochasticWeightAveraging)] == [mine]
