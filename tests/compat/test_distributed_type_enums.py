"""1.5-era scripts import ``DistributedType``/``DeviceType`` from ``pytorch_lightning.utilities`` and branch on
``trainer._distrib_type`` (Lightning's DQN tutorial: ``if self.trainer._distrib_type in {DistributedType.DP,
DistributedType.DDP2}: loss = loss.unsqueeze(0)``). Found with that tutorial (ImportError before)."""

from __future__ import annotations

import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core.utilities import AMPType, DeviceType, DistributedType, LightningEnum


class _BranchingModel(BoringModel):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[object] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        loss = super().training_step(batch, batch_idx)["loss"]
        self.seen.append((self.trainer._distrib_type, self.trainer._device_type))
        if self.trainer._distrib_type in {DistributedType.DP, DistributedType.DDP2}:
            loss = loss.unsqueeze(0)
        return loss


def test_one_device_run_has_no_distributed_type() -> None:
    model = _BranchingModel()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(model)
    assert model.seen == [(None, DeviceType.CPU)] * 2
    assert trainer._device_type == "cpu"


def test_enum_values_compare_as_1x_strings() -> None:
    assert DistributedType.DDP_SPAWN == "ddp_spawn" and DistributedType("ddp") is DistributedType.DDP
    assert DistributedType.DP.is_interactive_compatible() and not DistributedType.DDP.is_interactive_compatible()
    assert AMPType.NATIVE == "native" and str(DeviceType.GPU) == "GPU"
    assert issubclass(DistributedType, LightningEnum)
