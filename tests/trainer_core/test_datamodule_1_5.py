"""LightningDataModule's 1.5 constructor arguments (deprecated there) still build a datamodule (issue 14 item 37)."""

from __future__ import annotations

import pytest

import trainer_core as pl


def test_transforms_and_dims_are_accepted_with_a_deprecation_warning() -> None:
    def flip(x: object) -> object:
        return x

    with pytest.warns(DeprecationWarning) as record:
        dm = pl.LightningDataModule(train_transforms=flip, val_transforms=flip, test_transforms=flip,
                                    dims=(1, 28, 28))
    named = [str(w.message).split("=")[0] for w in record]
    assert named == [f"LightningDataModule({name}" for name in ("train_transforms", "val_transforms",
                                                                 "test_transforms", "dims")]
    assert dm.train_transforms is flip and dm.val_transforms is flip and dm.test_transforms is flip
    assert dm.dims == (1, 28, 28) and dm.size() == (1, 28, 28) and dm.size(1) == 28


def test_a_1_5_subclass_passing_them_to_super_builds() -> None:
    class MNISTLike(pl.LightningDataModule):
        def __init__(self, batch_size: int = 32) -> None:
            super().__init__(dims=(1, 28, 28))
            self.batch_size = batch_size

    with pytest.warns(DeprecationWarning, match="dims"):
        dm = MNISTLike(batch_size=8)
    assert dm.size() == (1, 28, 28) and dm.batch_size == 8


def test_no_arguments_no_warning(recwarn: pytest.WarningsRecorder) -> None:
    dm = pl.LightningDataModule()
    assert dm.dims is None and dm.train_transforms is None
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
