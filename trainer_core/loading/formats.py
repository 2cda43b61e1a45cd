"""Read a data file or folder into tensors (or a Dataset).

Formats, picked by suffix (or a folder):

- ``.csv``: one row per sample, numeric feature columns and one target column (by name, by index, or the column
  called ``target``/``label``/``y``/``class``, else the last one). A first row with any non-numeric cell is a header.
  Text targets become class indices in sorted order.
- ``.npz``: arrays ``x`` and ``y`` (``y`` may be left out: the data then has no targets).
- ``.pt``: a tuple/list of tensors of equal length, a dict with ``x``/``y``, or a pickled ``Dataset`` (only with
  ``trust=True``, because unpickling runs code from the file).
- a folder with one subfolder per class holding images (see :mod:`trainer_core.loading.images`).

Every problem raises :class:`~trainer_core.loading.errors.DataError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import math
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from trainer_core.loading.errors import DataError
from trainer_core.loading.images import IMAGE_SUFFIXES, ImageFormatError, read_image

__all__ = ["LoadedData", "read_data", "DATA_SUFFIXES"]

DATA_SUFFIXES = (".csv", ".npz", ".pt", ".pth")
_TARGET_NAMES = ("target", "label", "labels", "y", "class")


@dataclass
class LoadedData:
    """What a data file holds.

    Attributes:
        x: features (first dim = samples), or None when ``dataset`` is set.
        y: targets (same length as ``x``), or None when the file has none.
        dataset: a user Dataset from a ``.pt`` file (then ``x``/``y`` are None).
        classes: class names when targets are class indices that had names (CSV text labels, image folders).
    """

    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    dataset: Dataset | None = None
    classes: list[str] | None = None
    feature_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        if self.dataset is not None:
            return len(self.dataset)  # type: ignore[arg-type]
        return 0 if self.x is None else int(self.x.shape[0])


def read_data(path: str | os.PathLike[str], *, target: str | int | None = None, header: bool | None = None,
              trust: bool = False) -> LoadedData:
    """Read ``path`` (file or image folder) into a :class:`LoadedData`.

    Args:
        path: a ``.csv``, ``.npz`` or ``.pt`` file, or a folder of class subfolders of images.
        target: CSV only: the target column's name or 0-based index (negative counts from the end).
        header: CSV only: whether the first row is a header (None: detect).
        trust: ``.pt`` only: allow full unpickling (needed for a saved Dataset object).

    Raises:
        DataError: missing, unreadable, unknown format, empty or malformed data.
    """
    shown = str(path)
    where = Path(path).expanduser()
    if not where.exists():
        raise DataError(f"Data path {shown} does not exist (relative paths are taken from {os.getcwd()}).", path=shown)
    if where.is_dir():
        data = _read_image_folder(where, shown)
    else:
        suffix = where.suffix.lower()
        if suffix not in DATA_SUFFIXES:
            raise DataError(
                f"{shown}: '{suffix or 'no suffix'}' is not a data format this loader reads. Use a .csv file, a .npz "
                "with arrays x and y, a .pt file, a folder of images in class subfolders, or a LightningDataModule "
                "(--data script.py:ClassName).", path=shown)
        if not os.access(where, os.R_OK):
            raise DataError(f"{shown} is not readable (permission denied). Fix its permissions.", path=shown)
        if where.stat().st_size == 0:
            raise DataError(f"{shown} is empty (0 bytes).", path=shown)
        try:
            if suffix == ".csv":
                data = _read_csv(where, shown, target, header)
            elif suffix == ".npz":
                data = _read_npz(where, shown)
            else:
                data = _read_pt(where, shown, trust)
        except OSError as err:
            raise DataError(f"{shown} cannot be read: {err.strerror or err}.", path=shown) from err
    if len(data) == 0:
        raise DataError(f"{shown} holds no samples.", path=shown)
    return data


# --- CSV ---------------------------------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_header(rows: list[list[str]]) -> bool:
    """A first row is a header when it is all text, or has text above a column that is numeric below it."""
    first = [not _is_number(cell) for cell in rows[0]]
    if all(first):
        return True
    below = rows[1:6]
    return any(text and below and all(j < len(r) and _is_number(r[j]) for r in below) for j, text in enumerate(first))


def _read_csv(path: Path, shown: str, target: str | int | None, header: bool | None) -> LoadedData:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{shown} is not a text CSV file (byte {err.start} is not UTF-8).", path=shown) from err
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(text.splitlines(), dialect) if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{shown} has no rows.", path=shown)
    if header is None:
        header = _looks_like_header(rows)
    names = [c.strip() for c in rows[0]] if header else [f"column {i}" for i in range(len(rows[0]))]
    body = rows[1:] if header else rows
    if not body:
        raise DataError(f"{shown} has a header but no data rows.", path=shown)
    width = len(names)
    if width < 2:
        raise DataError(f"{shown} has one column; it needs feature columns and a target column.", path=shown)
    first_line = 2 if header else 1
    for i, row in enumerate(body):
        if len(row) != width:
            raise DataError(f"{shown}, line {i + first_line}: {len(row)} values where the first row has {width}.",
                            path=shown)
    col = _target_column(names, target, shown, bool(header))
    features: list[list[float]] = []
    for i, row in enumerate(body):
        values = []
        for j, cell in enumerate(row):
            if j == col:
                continue
            cell = cell.strip()
            if not _is_number(cell) or not math.isfinite(float(cell)):
                kind = "a number" if not _is_number(cell) else "a finite number (missing values are NaN/inf)"
                what = "an empty cell" if not cell else f"'{cell}', which is not {kind}"
                raise DataError(f"{shown}, line {i + first_line}, column '{names[j]}': {what}. Feature columns must "
                                "be numeric: fill or drop missing values, and encode text columns as numbers.",
                                path=shown)
            values.append(float(cell))
        features.append(values)
    raw_targets = [row[col].strip() for row in body]
    y, classes = _targets(raw_targets, shown, first_line, names[col])
    with np.errstate(over="ignore"):
        array = np.asarray(features, dtype=np.float32)
    if not np.isfinite(array).all():  # finite as text, but past float32's range (3.4e38): inf after the cast
        row, column = (int(i) for i in np.argwhere(~np.isfinite(array))[0])
        name = [n for j, n in enumerate(names) if j != col][column]
        raise DataError(f"{shown}, line {row + first_line}, column '{name}': {body[row][names.index(name)].strip()} "
                        "is beyond the float32 range (about 3.4e38). Rescale the column.", path=shown)
    x = torch.from_numpy(array)
    return LoadedData(x=x, y=y, classes=classes, feature_names=[n for j, n in enumerate(names) if j != col])


def _target_column(names: list[str], target: str | int | None, shown: str, header: bool) -> int:
    width = len(names)
    if target is None:
        lowered = [n.lower() for n in names]
        for candidate in _TARGET_NAMES:
            if header and candidate in lowered:
                return lowered.index(candidate)
        return width - 1
    if isinstance(target, int) and not isinstance(target, bool):
        if -width <= target < width:
            return target % width
        raise DataError(f"{shown}: target column {target} is out of range; the file has {width} columns "
                        f"(0..{width - 1}, or -1 for the last).", path=shown)
    if isinstance(target, str) and target.strip().lstrip("-").isdigit() and target not in names:
        return _target_column(names, int(target), shown, header)
    if target in names:
        return names.index(target)
    listing = ", ".join(names) if header else f"{width} unnamed columns (give an index)"
    raise DataError(f"{shown}: no target column '{target}'. Columns: {listing}.", path=shown)


def _targets(raw: list[str], shown: str, first_line: int, column: str) -> tuple[torch.Tensor, list[str] | None]:
    for i, cell in enumerate(raw):
        if not cell:
            raise DataError(f"{shown}, line {i + first_line}: the target column '{column}' is empty. Every row "
                            "needs a target.", path=shown)
    if all(_is_number(cell) for cell in raw):
        values = np.asarray([float(cell) for cell in raw])
        for i, value in enumerate(values):  # NaN/inf labels are missing values, and break the integer check below
            if not math.isfinite(value):
                raise DataError(f"{shown}, line {i + first_line}: the target column '{column}' holds '{raw[i]}', "
                                "which is not a finite number. Fill or drop rows with missing targets.", path=shown)
        # Integers beyond 2**53 are not exact as floats, and no class index is that large: keep them as values.
        integral = np.all(values == np.round(values)) and np.all(np.abs(values) < 2**53)
        if integral and all("." not in c and "e" not in c.lower() for c in raw):
            return torch.tensor(values.astype(np.int64)), None
        return torch.tensor(values.astype(np.float32)), None
    classes = sorted(set(raw))
    index = {name: i for i, name in enumerate(classes)}
    return torch.tensor([index[c] for c in raw], dtype=torch.long), classes


# --- NPZ / PT ----------------------------------------------------------------------------------------------------


def _as_tensor(array: Any, name: str, shown: str) -> torch.Tensor:
    tensor = array if isinstance(array, torch.Tensor) else None
    if tensor is None:
        try:
            array = np.asarray(array)
        except (ValueError, TypeError) as err:  # ragged nested lists, tensors of different shapes
            raise DataError(f"{shown}: '{name}' is not a rectangular array of numbers ({err}). Save tensors of "
                            "one shape: torch.save((x, y), path).", path=shown) from err
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise DataError(f"{shown}: array '{name}' has dtype {array.dtype}; it must hold numbers.", path=shown)
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.is_floating_point():
        return tensor.float()
    if tensor.dtype == torch.bool:
        return tensor.float()
    return tensor.long()


def _pair(x: Any, y: Any, shown: str) -> LoadedData:
    xt = _as_tensor(x, "x", shown)
    if xt.ndim == 0:
        raise DataError(f"{shown}: x is a single number; it must have one row per sample.", path=shown)
    yt = None if y is None else _as_tensor(y, "y", shown)
    if yt is not None and (yt.ndim == 0 or yt.shape[0] != xt.shape[0]):
        raise DataError(f"{shown}: x has {xt.shape[0]} samples but y has "
                        f"{'no sample axis' if yt.ndim == 0 else yt.shape[0]}; they must match.", path=shown)
    return LoadedData(x=xt, y=yt)


def _read_npz(path: Path, shown: str) -> LoadedData:
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            if "x" not in keys:
                raise DataError(f"{shown} has no array 'x' (it holds: {', '.join(keys) or 'nothing'}). Save it with "
                                "np.savez(path, x=features, y=targets).", path=shown)
            return _pair(archive["x"], archive["y"] if "y" in keys else None, shown)
    except DataError:
        raise
    except OSError:
        raise  # read_data words these (permission denied, I/O error)
    except Exception as err:  # noqa: BLE001 - numpy/zipfile fail on foreign bytes with many error types
        raise DataError(f"{shown} is not a valid .npz archive ({err}). Save it with np.savez(path, x=..., y=...).",
                        path=shown) from err


def _read_pt(path: Path, shown: str, trust: bool) -> LoadedData:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=not trust)
    except pickle.UnpicklingError as err:
        if not trust and "Unsupported global" in str(err):
            raise DataError(
                f"{shown} holds pickled Python objects (such as a Dataset class). Loading them runs code from the "
                "file, so it is off by default. If you trust the file, pass --data.trust True (config: data.trust: "
                "true); or save plain tensors instead: torch.save((x, y), path).", path=shown) from err
        raise DataError(f"{shown} is not a readable torch file ({err}).", path=shown) from err
    except OSError:
        raise  # read_data words these (permission denied, I/O error)
    except Exception as err:  # noqa: BLE001 - torch's readers fail on foreign bytes with IndexError, KeyError...
        detail = " ".join(f"{type(err).__name__}: {err}".split())[:200]
        raise DataError(f"{shown} is not a readable torch file ({detail}).", path=shown) from err
    if isinstance(obj, torch.Tensor):
        return _pair(obj, None, shown)
    if isinstance(obj, (tuple, list)) and obj and all(isinstance(t, torch.Tensor) for t in obj):
        if len(obj) > 2:
            raise DataError(f"{shown} holds {len(obj)} tensors; give (x,) or (x, y).", path=shown)
        return _pair(obj[0], obj[1] if len(obj) > 1 else None, shown)
    if isinstance(obj, dict) and "x" in obj:
        return _pair(obj["x"], obj.get("y"), shown)
    if isinstance(obj, Dataset) or (hasattr(obj, "__getitem__") and hasattr(obj, "__len__") and trust):
        return LoadedData(dataset=obj)
    raise DataError(f"{shown} holds a {type(obj).__name__}; expected a tuple (x, y) of tensors, a dict with 'x' and "
                    "'y', or a Dataset.", path=shown)


# --- image folders ------------------------------------------------------------------------------------------------


def _read_image_folder(root: Path, shown: str) -> LoadedData:
    try:
        classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError as err:
        raise DataError(f"Folder {shown} cannot be read: {err.strerror or err}.", path=shown) from err
    if not classes:
        raise DataError(f"Folder {shown} has no class subfolders. Put the images of each class in their own "
                        f"subfolder ({shown}/cat/1.png, {shown}/dog/2.png, ...).", path=shown)
    images: list[np.ndarray] = []
    labels: list[int] = []
    first: tuple[str, tuple[int, ...]] | None = None
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise DataError(f"Class folder {shown}/{name} has no images ({', '.join(IMAGE_SUFFIXES)}). Every class "
                            "needs at least one image; remove the folder otherwise.", path=str(root / name))
        for file in files:
            try:
                image = read_image(file)
            except (ImageFormatError, OSError, ValueError) as err:
                raise DataError(f"Image {file} cannot be read: {err}.", path=str(file)) from err
            if first is None:
                first = (str(file), image.shape)
            elif image.shape[:2] != first[1][:2]:
                raise DataError(f"Image {file} is {image.shape[1]}x{image.shape[0]} but {first[0]} is "
                                f"{first[1][1]}x{first[1][0]}; all images must have the same size. Resize them "
                                "first, or write a LightningDataModule with your own transforms.", path=str(file))
            images.append(image)
            labels.append(label)
    channels = max(img.shape[2] for img in images)
    stacked = np.stack([np.repeat(img, channels // img.shape[2], axis=2) for img in images])
    x = torch.from_numpy(np.ascontiguousarray(stacked.transpose(0, 3, 1, 2)))  # (N, C, H, W) as conv layers expect
    return LoadedData(x=x, y=torch.tensor(labels, dtype=torch.long), classes=classes)
