"""Bad data files (matrix row 5): every problem is a DataError naming the file and what is wrong with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer_core.loading import DataError, FileDataModule


def _make(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """A broken data file of ``kind`` and a phrase the message must contain."""
    if kind == "missing":
        return tmp_path / "nowhere.csv", "does not exist"
    if kind == "unreadable":
        path = tmp_path / "folder.csv"
        path.mkdir()  # root can read any file, but nobody can read a folder as a CSV
        return path, ""
    if kind == "wrong_format":
        path = tmp_path / "data.xyz"
        path.write_text("1,2,3\n")
        return path, ".xyz"
    if kind == "binary_as_csv":
        path = tmp_path / "image.csv"
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
        return path, ""
    if kind == "empty":
        path = tmp_path / "empty.csv"
        path.write_text("")
        return path, "empty"
    if kind == "labels_out_of_range":
        path = tmp_path / "labels.npz"
        np.savez(path, x=np.zeros((4, 3), dtype=np.float32), y=np.array([0, 1, 5, 1]))
        return path, "out of range"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "unreadable", "wrong_format", "binary_as_csv", "empty",
                                  "labels_out_of_range"])
def test_bad_data_file_is_named_in_the_error(kind: str, tmp_path: Path) -> None:
    path, phrase = _make(kind, tmp_path)
    options = {"num_classes": 2} if kind == "labels_out_of_range" else {}
    with pytest.raises(DataError) as error:
        FileDataModule(str(path), **options).setup()
    message = str(error.value)
    assert path.name in message, message
    assert phrase in message, message
