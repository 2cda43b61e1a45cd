"""FileDataModule: splits, loaders per stage, option checks and label range checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trainer_core.loading import DataError, FileDataModule


@pytest.fixture
def npz(tmp_path: Path) -> Path:
    path = tmp_path / "d.npz"
    np.savez(path, x=np.arange(40, dtype=np.float32).reshape(20, 2), y=np.arange(20) % 3)
    return path


def test_split_is_seeded_and_disjoint(npz: Path) -> None:
    dm = FileDataModule(npz, batch_size=4, val_split=0.25, seed=1)
    dm.setup("fit")
    train = torch.cat([x for x, _ in dm.train_dataloader()])
    val = torch.cat([x for x, _ in dm.val_dataloader()])
    assert (len(train), len(val)) == (15, 5)
    assert set(train[:, 0].tolist()).isdisjoint(val[:, 0].tolist())
    again = FileDataModule(npz, batch_size=4, val_split=0.25, seed=1)
    again.setup()
    assert torch.equal(torch.cat([x for x, _ in again.val_dataloader()]), val)
    assert dm.dims == (2,)


def test_count_split_no_split_and_stage_loaders(npz: Path) -> None:
    dm = FileDataModule(npz, batch_size=8, val_split=3, shuffle=False)
    dm.setup()
    assert sum(len(x) for x, _ in dm.val_dataloader()) == 3
    none = FileDataModule(npz, val_split=0)
    none.setup()
    assert none.val_dataloader() == []
    assert sum(len(x) for x, _ in none.train_dataloader()) == 20
    test = [batch for batch in none.test_dataloader()]
    assert torch.equal(torch.cat([x for x, _ in test])[:, 0], torch.arange(0, 40, 2, dtype=torch.float32))
    predict = list(none.predict_dataloader())
    assert all(isinstance(batch, torch.Tensor) for batch in predict)  # x only, no targets


def test_batch_size_attribute_is_read_by_each_loader(npz: Path) -> None:
    dm = FileDataModule(npz, batch_size=2, val_split=0)
    dm.setup()
    dm.batch_size = 10  # what the batch-size finder does
    assert len(dm.train_dataloader()) == 2


def test_labels_out_of_range(npz: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"labels out of range: sample 2 has label 2, labels span 0..2, but class "
                                        r"labels must be 0..1 \(num_classes=2\)"):
        FileDataModule(npz, num_classes=2).setup()
    negative = tmp_path / "neg.csv"
    negative.write_text("a,label\n1,0\n2,-1\n")
    with pytest.raises(DataError, match="sample 1 has label -1"):
        FileDataModule(negative).setup()


@pytest.mark.parametrize("options,message", [
    ({"batch_size": 0}, "batch_size=0"),
    ({"val_split": 1.0}, r"val_split=1.0 .* is not valid"),
    ({"val_split": 20}, "leaves no training samples"),
    ({"shuffle": "yes"}, "shuffle='yes'"),
    ({"num_workers": -1}, "num_workers=-1"),
])
def test_bad_options(npz: Path, options: dict, message: str) -> None:
    with pytest.raises(DataError, match=message):
        FileDataModule(npz, **options).setup()
