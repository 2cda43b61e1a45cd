"""The 1.5 Lite MNIST example sums its test loss into a Python float and calls ``lite.all_gather(test_loss).mean()``;
1.5 turned numbers into tensors before gathering ('float' object has no attribute 'mean' before)."""

from __future__ import annotations

import numpy as np
import torch

from tests.helpers.boring_model import BoringModel
from trainer_core.lite import LightningLite
from trainer_core.utilities.export import numbers_to_tensors


class _GatherLite(LightningLite):
    def run(self) -> list:
        return [self.all_gather(2.5).mean(), self.all_gather({"n": 3, "t": torch.ones(1)})]


def test_lite_all_gather_of_a_float_is_a_tensor() -> None:
    mean, mapping = _GatherLite(accelerator="cpu").run()
    assert isinstance(mean, torch.Tensor) and mean.item() == 2.5
    assert isinstance(mapping["n"], torch.Tensor) and mapping["n"].item() == 3


def test_module_all_gather_of_numbers_in_one_process() -> None:
    gathered = BoringModel().all_gather([1.0, np.float32(2.0), torch.zeros(2)])
    assert all(isinstance(item, torch.Tensor) for item in gathered)
    assert [float(item.sum()) for item in gathered] == [1.0, 2.0, 0.0]


def test_structures_without_numbers_are_returned_as_they_are() -> None:
    data = {"a": torch.ones(2), "name": "x", "flag": True}
    assert numbers_to_tensors(data) is data
