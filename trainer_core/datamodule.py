"""LightningDataModule: the data side of a run in one object."""

from __future__ import annotations

import warnings
from typing import Any

from trainer_core.data_hooks import BatchTransferHooks
from trainer_core.hparams import HyperparametersMixin
from trainer_core.step_hooks import LoaderHooks
from trainer_core.utilities import argparse as argparse_utils

__all__ = ["LightningDataModule"]


class LightningDataModule(HyperparametersMixin, LoaderHooks, BatchTransferHooks):
    """Groups ``prepare_data``, ``setup(stage)``, the dataloader methods and ``teardown(stage)``.

    Examples:
        >>> import torch
        >>> from torch.utils.data import DataLoader, TensorDataset
        >>> class Data(LightningDataModule):
        ...     def setup(self, stage=None):
        ...         self.ds = TensorDataset(torch.randn(8, 2), torch.randn(8, 1))
        ...     def train_dataloader(self):
        ...         return DataLoader(self.ds, batch_size=4)
    """

    # Whether prepare_data runs on local rank 0 of every node (True) or only on global rank 0.
    prepare_data_per_node: bool = True

    def __init__(self, train_transforms: Any = None, val_transforms: Any = None, test_transforms: Any = None,
                 dims: Any = None) -> None:
        super().__init__()
        self.trainer: Any = None
        # 1.5's constructor arguments, deprecated there: kept as plain attributes so 1.5 datamodules still build.
        given = {"train_transforms": train_transforms, "val_transforms": val_transforms,
                 "test_transforms": test_transforms, "dims": dims}
        for name, value in given.items():
            if value is not None:
                warnings.warn(f"LightningDataModule({name}=...) is deprecated (Lightning 1.5); set it on your "
                              "datamodule yourself or apply it in setup()/the dataloaders", DeprecationWarning,
                              stacklevel=2)
        self.train_transforms, self.val_transforms, self.test_transforms = train_transforms, val_transforms, \
            test_transforms
        # Stored behind a property (as 1.5 did) so a subclass may define its own read-only ``dims`` property.
        self._dims = dims

    @property
    def dims(self) -> Any:
        """The data's shape as given to the constructor or set later (1.5, deprecated there)."""
        return self._dims

    @dims.setter
    def dims(self, value: Any) -> None:
        self._dims = value

    def size(self, dim: int | None = None) -> Any:
        """``dims``, or its entry ``dim`` (1.5, deprecated there)."""
        if dim is None or self.dims is None:
            return self.dims
        return self.dims[dim]

    def prepare_data(self) -> None:
        """Download or write data to disk. Runs in one process per node; set no state here."""

    def setup(self, stage: str | None = None) -> None:
        """Build datasets for ``stage`` ("fit", "validate", "test", "predict")."""

    def teardown(self, stage: str | None = None) -> None:
        """Release what ``setup`` made."""

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None: ...

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None: ...

    # 1.x argparse helpers: one option per argument of the subclass's constructor.
    add_argparse_args = classmethod(argparse_utils.add_argparse_args)
    from_argparse_args = classmethod(argparse_utils.from_argparse_args)
    parse_argparser = classmethod(argparse_utils.parse_argparser)
    get_init_arguments_and_types = classmethod(argparse_utils.get_init_arguments_and_types)

    @classmethod
    def from_datasets(cls, train_dataset: Any = None, val_dataset: Any = None, test_dataset: Any = None,
                      predict_dataset: Any = None, batch_size: int = 1, num_workers: int = 0) -> LightningDataModule:
        """A datamodule serving the given datasets."""
        from torch.utils.data import DataLoader

        def loader(ds: Any, shuffle: bool) -> Any:
            return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers)

        dm = cls()
        if train_dataset is not None:
            dm.train_dataloader = lambda: loader(train_dataset, True)  # type: ignore[method-assign]
        if val_dataset is not None:
            dm.val_dataloader = lambda: loader(val_dataset, False)  # type: ignore[method-assign]
        if test_dataset is not None:
            dm.test_dataloader = lambda: loader(test_dataset, False)  # type: ignore[method-assign]
        if predict_dataset is not None:
            dm.predict_dataloader = lambda: loader(predict_dataset, False)  # type: ignore[method-assign]
        return dm
