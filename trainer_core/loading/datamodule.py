"""A LightningDataModule over a data file or folder (``--data PATH``).

The file is read once in ``setup``. A seeded random split gives the train and validation sets; test uses every
sample in file order; predict yields the features only (so the default ``predict_step``, ``self(batch)``, works).

Examples:
    >>> dm = FileDataModule("resources/examples/data/iris.csv", batch_size=16, val_split=0.2)  # doctest: +SKIP
    >>> trainer.fit(model, datamodule=dm)                                                    # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from trainer_core.datamodule import LightningDataModule
from trainer_core.loading.errors import DataError
from trainer_core.loading.formats import LoadedData, read_data

__all__ = ["FileDataModule", "FILE_DATA_OPTIONS"]

# The options a file source accepts besides ``path`` (the CLI's --data.NAME and the config's data: keys).
FILE_DATA_OPTIONS = ("batch_size", "val_split", "shuffle", "seed", "num_workers", "target", "header", "trust",
                     "num_classes")


class _Tensors(Dataset):
    """Samples ``(x[i], y[i])``, or ``x[i]`` alone when there are no targets (or for prediction)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor | None) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def __getitem__(self, index: int) -> Any:
        return self.x[index] if self.y is None else (self.x[index], self.y[index])


class FileDataModule(LightningDataModule):
    """Batches from a ``.csv``, ``.npz``, ``.pt`` file or an image folder (see :mod:`trainer_core.loading.formats`).

    Args:
        path: the file or folder.
        batch_size: samples per batch (the batch-size finder changes this attribute).
        val_split: share of samples held out for validation (float in [0, 1)) or their count (int); 0: none.
        shuffle: shuffle the training set every epoch.
        seed: seed of the train/validation split (the split does not depend on the global seed).
        num_workers: DataLoader worker processes.
        target: CSV: target column name or index (default: a column named target/label/y/class, else the last).
        header: CSV: whether the first row is a header (None: detect).
        trust: ``.pt``: allow full unpickling (a saved Dataset object).
        num_classes: when set, integer targets must lie in ``[0, num_classes)``.
    """

    def __init__(self, path: str | os.PathLike[str], batch_size: int = 32, val_split: float | int = 0.2,
                 shuffle: bool = True, seed: int = 0, num_workers: int = 0, target: str | int | None = None,
                 header: bool | None = None, trust: bool = False, num_classes: int | None = None) -> None:
        super().__init__()
        self.path = str(path)
        self.batch_size = self._check_int("batch_size", batch_size, 1)
        self.num_workers = self._check_int("num_workers", num_workers, 0)
        self.seed = self._check_int("seed", seed, None)
        if num_classes is not None:
            self._check_int("num_classes", num_classes, 1)
        self.num_classes = num_classes
        ok_split = isinstance(val_split, (int, float)) and not isinstance(val_split, bool) and (
            0 <= val_split < 1 or (isinstance(val_split, int) and val_split >= 1))
        if not ok_split:
            raise DataError(f"val_split={val_split!r} for {self.path} is not valid: give a fraction in [0.0, 1.0) or "
                            "a number of samples (int >= 1); 0 means no validation set.", path=self.path)
        for name, value in (("shuffle", shuffle), ("trust", trust)):
            if not isinstance(value, bool):
                raise DataError(f"{name}={value!r} for {self.path} is not valid: give True or False.", path=self.path)
        self.val_split, self.shuffle, self.trust = val_split, shuffle, trust
        self.target, self.header = target, header
        self.data: LoadedData | None = None
        self._train: Dataset | None = None
        self._val: Dataset | None = None

    def _check_int(self, name: str, value: Any, minimum: int | None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or (minimum is not None and value < minimum):
            bound = f" >= {minimum}" if minimum is not None else ""
            raise DataError(f"{name}={value!r} for {self.path} is not valid: give an integer{bound}.", path=self.path)
        return value

    # --- what the data holds (valid after setup) -----------------------------------------------------------------
    @property
    def classes(self) -> list[str] | None:
        """Class names (image folders, CSV text labels), else None."""
        return None if self.data is None else self.data.classes

    @property
    def dims(self) -> tuple[int, ...] | None:
        """Shape of one sample's features, e.g. ``(4,)`` for a 4-column CSV or ``(3, 32, 32)`` for images."""
        if self.data is None or self.data.x is None:
            return None
        return tuple(self.data.x.shape[1:])

    # --- LightningDataModule -------------------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        """Read the file (once) and split it."""
        if self.data is not None:
            return
        data = read_data(self.path, target=self.target, header=self.header, trust=self.trust)
        self._check_labels(data)
        whole = data.dataset if data.dataset is not None else _Tensors(data.x, data.y)  # type: ignore[arg-type]
        count = len(data)
        n_val = int(self.val_split) if isinstance(self.val_split, int) else int(round(count * self.val_split))
        if n_val >= count:
            raise DataError(f"val_split={self.val_split!r} leaves no training samples: {self.path} has {count}. Use a "
                            "smaller split.", path=self.path)
        order = torch.randperm(count, generator=torch.Generator().manual_seed(self.seed)).tolist()
        self._val = Subset(whole, order[:n_val]) if n_val else None
        self._train = Subset(whole, order[n_val:]) if n_val else whole
        self.data = data

    def _check_labels(self, data: LoadedData) -> None:
        y = data.y
        if y is None or y.is_floating_point() or y.numel() == 0:
            return
        low, high = int(y.min()), int(y.max())
        if low < 0 or (self.num_classes is not None and high >= self.num_classes):
            bad = int(((y < 0) | (y >= (self.num_classes or high + 1))).nonzero()[0, 0])
            accepted = f"0..{self.num_classes - 1} (num_classes={self.num_classes})" if self.num_classes else ">= 0"
            raise DataError(f"{self.path}: labels out of range: sample {bad} has label {int(y.view(-1)[bad])}, "
                            f"labels span {low}..{high}, but class labels must be {accepted}. Renumber the labels "
                            "from 0, or set num_classes to the number of classes.", path=self.path)

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_size=self.batch_size, shuffle=shuffle, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        """Training samples, shuffled each epoch when ``shuffle``."""
        self.setup("fit")
        assert self._train is not None
        return self._loader(self._train, self.shuffle)

    def val_dataloader(self) -> DataLoader | list:
        """The held-out split; an empty list (no validation) when ``val_split`` is 0."""
        self.setup("validate")
        return [] if self._val is None else self._loader(self._val, False)

    def test_dataloader(self) -> DataLoader:
        """Every sample, in file order."""
        self.setup("test")
        assert self.data is not None
        whole = self.data.dataset if self.data.dataset is not None else _Tensors(self.data.x, self.data.y)
        return self._loader(whole, False)

    def predict_dataloader(self) -> DataLoader:
        """Every sample's features (no targets), in file order."""
        self.setup("predict")
        assert self.data is not None
        if self.data.dataset is not None:
            return self._loader(self.data.dataset, False)
        return self._loader(_Tensors(self.data.x, None), False)  # type: ignore[arg-type]
