"""Data files and folders: CSV (ragged rows, encodings, NaN, text targets, random bytes), ``.npz``/``.pt`` (random
bytes, wrong shapes and dtypes, pickles that would run code) and image folders (broken, zero-byte and odd-mode
images).

``read_data`` returns tensors of equal length or raises ``DataError`` naming the file or folder; nothing from a
file runs unless ``trust=True``; the files are left as they were.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from tests.reliability.fuzz.fuzzing import fuzz_settings
from trainer_core.loading import read_data
from trainer_core.loading.errors import DataError

pytestmark = pytest.mark.fuzz


def _read(path: Path, **kwargs: Any) -> Any:
    before = {p: p.read_bytes() for p in ([path] if path.is_file() else sorted(path.rglob("*"))) if p.is_file()}
    try:
        data = read_data(path, **kwargs)
    except DataError as err:
        assert str(path) in str(err) or err.path.startswith(str(path)), err
        data = None
    else:
        if data.dataset is None:
            assert data.x is not None
            assert data.y is None or len(data.y) == len(data.x)
    after = {p: p.read_bytes() for p in before}
    assert after == before  # reading never changes a data file
    return data


_CELLS = st.one_of(st.integers(-10**30, 10**30).map(str), st.floats().map(repr), st.text(max_size=8),
                   st.sampled_from(["", "nan", "NaN", "inf", "-inf", "1e400", " 3 ", "1,5", "\"", "'", "\x00"]))
_ROWS = st.lists(st.lists(_CELLS, min_size=0, max_size=6), min_size=0, max_size=12)


@fuzz_settings()
@given(rows=_ROWS, encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]),
       target=st.one_of(st.none(), st.integers(-8, 8), st.sampled_from(["target", "label", "nope", ""])),
       header=st.sampled_from([None, True, False]))
def test_csv_rows_of_any_shape_and_encoding(tmp_path: Path, rows: list[list[str]], encoding: str, target: Any,
                                            header: bool | None) -> None:
    path = tmp_path / "data.csv"
    text = "\n".join(",".join(row) for row in rows)
    path.write_bytes(text.encode(encoding, errors="replace"))
    _read(path, target=target, header=header)


@fuzz_settings()
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".csv", ".npz", ".pt", ".pth"]))
def test_random_bytes_in_any_format(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"data{suffix}"
    path.write_bytes(data)
    _read(path)


@fuzz_settings(scale=0.5)
@given(arrays=st.dictionaries(st.sampled_from(["x", "y", "X", "features", "z"]), hnp.arrays(
    dtype=hnp.scalar_dtypes(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)), max_size=3))
def test_npz_with_any_arrays(tmp_path: Path, arrays: dict[str, np.ndarray]) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    _read(path)


def test_npz_with_an_object_array_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "data.npz"
    payload = np.empty(1, dtype=object)
    payload[0] = _RunsCode(marker)
    np.savez(path, x=payload, y=np.zeros(1))
    _read(path)
    assert not marker.exists()


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("trust", [False])
def test_pt_pickles_that_run_code_are_refused(tmp_path: Path, trust: bool) -> None:
    marker = tmp_path / "code-ran"
    for name, blob in (("zip.pt", _torch_bytes(_RunsCode(marker))), ("raw.pt", pickle.dumps(_RunsCode(marker)))):
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(DataError, match=name):
            read_data(path, trust=trust)
        assert not marker.exists()


def _torch_bytes(obj: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


_TENSORS = st.builds(lambda shape, dtype: torch.zeros(shape, dtype=dtype),
                     st.lists(st.integers(0, 4), max_size=3).map(tuple),
                     st.sampled_from([torch.float32, torch.int64, torch.bool, torch.uint8, torch.complex64]))
_PT_OBJECTS = st.recursive(
    st.one_of(_TENSORS, st.none(), st.integers(), st.text(max_size=5), st.floats()),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.tuples(inner, inner),
                            st.dictionaries(st.sampled_from(["x", "y", "data", "target"]), inner, max_size=3)),
    max_leaves=6)


@fuzz_settings(scale=0.5)
@given(obj=_PT_OBJECTS)
def test_pt_with_any_structure(tmp_path: Path, obj: Any) -> None:
    path = tmp_path / "data.pt"
    path.write_bytes(_torch_bytes(obj))
    _read(path)


def _image_bytes(mode: str, size: tuple[int, int], fmt: str) -> bytes:
    """An image of ``mode`` in ``fmt``, or in TIFF (which stores every mode) where ``fmt`` cannot hold it."""
    for chosen in (fmt, "TIFF"):
        buffer = io.BytesIO()
        try:
            Image.new(mode, size).save(buffer, format=chosen)
        except (OSError, ValueError, KeyError):
            continue
        return buffer.getvalue()
    raise AssertionError(f"Pillow cannot write mode {mode}")


_IMAGE_FILES = st.one_of(
    st.binary(max_size=300),
    st.builds(_image_bytes, st.sampled_from(["1", "L", "P", "RGB", "RGBA", "LA", "I", "F", "CMYK", "I;16"]),
              st.tuples(st.integers(1, 9), st.integers(1, 9)), st.sampled_from(["PNG", "TIFF", "BMP", "GIF"])),
    st.builds(lambda data, cut: data[:cut], st.builds(_image_bytes, st.just("RGB"), st.just((8, 8)),
                                                      st.just("PNG")), st.integers(0, 200)),
)


@fuzz_settings(scale=0.25)
@given(files=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from([".png", ".jpg", ".bmp", ".tif",
                                                                                    ".gif", ".txt"]),
                                 _IMAGE_FILES), min_size=0, max_size=6))
def test_image_folders_with_broken_empty_and_odd_images(tmp_path: Path, files: list[tuple[str, str, bytes]]) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "images"  # one folder per example: tmp_path is shared
    root.mkdir()
    for i, (label, suffix, blob) in enumerate(files):
        (root / label).mkdir(exist_ok=True)
        (root / label / f"{i}{suffix}").write_bytes(blob)
    data = _read(root)
    if data is not None:
        assert data.x is not None and data.x.ndim == 4 and torch.isfinite(data.x.float()).all()
