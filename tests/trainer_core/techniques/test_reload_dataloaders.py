"""reload_dataloaders_every_n_epochs / reload_dataloaders_every_epoch: Lightning 1.5's call sequence."""

from __future__ import annotations

from typing import Any

import pytest
from _techniques_models import BoringModel, trainer
from torch.utils.data import DataLoader

from trainer_core.exceptions import MisconfigurationError


class Calls(BoringModel):
    def __init__(self) -> None:
        super().__init__(batch_size=4, length=16)
        self.calls: list[str] = []

    def train_dataloader(self) -> DataLoader:
        self.calls.append("train")
        return super().train_dataloader()

    def val_dataloader(self) -> DataLoader:
        self.calls.append("val")
        return super().val_dataloader()

    def test_dataloader(self) -> DataLoader:
        self.calls.append("test")
        return super().test_dataloader()


def _run(**flags: Any) -> list[str]:
    model = Calls()
    t = trainer(max_epochs=3, limit_train_batches=2, limit_val_batches=2, **flags)
    t.fit(model)
    t.test(model, verbose=False)
    return model.calls


def test_default_loads_once() -> None:
    assert _run() == ["val", "train", "test"]


@pytest.mark.parametrize(("flags", "expected"), [
    ({"reload_dataloaders_every_n_epochs": 1}, ["val", "train"] + ["train", "val"] * 2 + ["test"]),
    ({"reload_dataloaders_every_epoch": True}, ["val", "train"] + ["train", "val"] * 2 + ["test"]),
    ({"reload_dataloaders_every_n_epochs": 2}, ["val", "train", "train", "val", "test"]),
])
def test_reload_sequence(flags: dict[str, Any], expected: list[str]) -> None:
    assert _run(**flags) == expected


def test_reload_without_sanity_check_loads_val_in_the_first_epoch() -> None:
    assert _run(reload_dataloaders_every_n_epochs=1, num_sanity_val_steps=0) == \
        ["train", "val", "train", "val", "train", "val", "test"]


@pytest.mark.parametrize("bad", [-1, 1.5, "2"])
def test_bad_values(bad: Any) -> None:
    with pytest.raises(MisconfigurationError, match="reload_dataloaders_every_n_epochs"):
        trainer(reload_dataloaders_every_n_epochs=bad)


def test_both_spellings_is_an_error() -> None:
    with pytest.raises(MisconfigurationError):
        trainer(reload_dataloaders_every_n_epochs=1, reload_dataloaders_every_epoch=True)
