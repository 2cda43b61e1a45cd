"""Reading data files: CSV, .npz, .pt and image folders, and the messages for bad ones."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from trainer_core.loading import DataError, read_data, write_png


def test_csv_with_header_and_named_target(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,label,b\n1,0,2\n3,1,4\n5,2,6\n")
    data = read_data(path)
    assert data.x.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    assert data.y.dtype == torch.long and data.y.tolist() == [0, 1, 2]
    assert data.feature_names == ["a", "b"]


def test_csv_without_header_last_column_and_float_target(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("1,2,0.5\n3,4,1.5\n")
    data = read_data(path)
    assert data.x.shape == (2, 2)
    assert data.y.dtype == torch.float32 and data.y.tolist() == [0.5, 1.5]


def test_csv_target_by_index_text_labels_and_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("setosa;1;2\nvirginica;3;4\nsetosa;5;6\n")
    data = read_data(path, target=0)
    assert data.classes == ["setosa", "virginica"]
    assert data.y.tolist() == [0, 1, 0]
    assert data.x.tolist() == [[1, 2], [3, 4], [5, 6]]


@pytest.mark.parametrize("text,target,message", [
    ("a,b\n1,2\n3\n", None, r"line 3: 1 values where the first row has 2"),
    ("a,b,y\n1,,0\n", None, r"line 2, column 'b': an empty cell"),
    ("a,b,y\n1,x,0\n", None, r"column 'b': 'x', which is not a number"),
    ("a,b,y\n1,2,0\n", "z", r"no target column 'z'. Columns: a, b, y"),
    ("a,b,y\n1,2,0\n", 5, r"target column 5 is out of range; the file has 3 columns"),
    ("a,b,y\n", None, "has a header but no data rows"),
    ("a\n1\n", None, "has one column"),
    ("\n\n", None, "has no rows"),
])
def test_bad_csv(tmp_path: Path, text: str, target: object, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message) as info:
        read_data(path, target=target)
    assert str(path) in str(info.value)


def test_binary_file_with_csv_suffix(tmp_path: Path) -> None:
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(DataError, match="not a text CSV file"):
        read_data(path)


def test_npz_and_missing_key(tmp_path: Path) -> None:
    np.savez(tmp_path / "d.npz", x=np.ones((5, 3), dtype=np.float64), y=np.arange(5))
    data = read_data(tmp_path / "d.npz")
    assert data.x.dtype == torch.float32 and data.y.dtype == torch.long and len(data) == 5
    np.savez(tmp_path / "e.npz", features=np.ones(3))
    with pytest.raises(DataError, match=r"has no array 'x' \(it holds: features\)"):
        read_data(tmp_path / "e.npz")
    np.savez(tmp_path / "f.npz", x=np.ones((5, 3)), y=np.arange(4))
    with pytest.raises(DataError, match="x has 5 samples but y has 4"):
        read_data(tmp_path / "f.npz")
    (tmp_path / "g.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a valid .npz archive"):
        read_data(tmp_path / "g.npz")


def test_pt_tuple_dict_and_dataset(tmp_path: Path) -> None:
    torch.save((torch.zeros(4, 2), torch.arange(4)), tmp_path / "t.pt")
    assert read_data(tmp_path / "t.pt").y.tolist() == [0, 1, 2, 3]
    torch.save({"x": torch.zeros(3, 2)}, tmp_path / "d.pt")
    assert read_data(tmp_path / "d.pt").y is None
    torch.save(TensorDataset(torch.zeros(6, 2)), tmp_path / "ds.pt")
    with pytest.raises(DataError, match="pickled Python objects .* --data.trust True"):
        read_data(tmp_path / "ds.pt")
    assert len(read_data(tmp_path / "ds.pt", trust=True)) == 6
    (tmp_path / "bad.pt").write_bytes(b"nonsense")
    with pytest.raises(DataError, match="not a readable torch file"):
        read_data(tmp_path / "bad.pt")


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked.csv").write_text("1,2\n")
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as chmod 0 would do for a non-root user
    with pytest.raises(DataError, match=r"locked.csv is not readable \(permission denied\)"):
        read_data(tmp_path / "locked.csv")


def test_missing_empty_unknown_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_data(tmp_path / "nope.csv")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match=r"is empty \(0 bytes\)"):
        read_data(tmp_path / "e.csv")
    (tmp_path / "x.parquet").write_text("x")
    with pytest.raises(DataError, match="'.parquet' is not a data format"):
        read_data(tmp_path / "x.parquet")
    if os.geteuid() != 0:  # root reads anything
        (tmp_path / "locked.csv").write_text("1,2\n")
        (tmp_path / "locked.csv").chmod(0)
        with pytest.raises(DataError, match="not readable"):
            read_data(tmp_path / "locked.csv")
    torch.save((torch.zeros(0, 2), torch.zeros(0)), tmp_path / "none.pt")
    with pytest.raises(DataError, match="holds no samples"):
        read_data(tmp_path / "none.pt")


def _image_folder(root: Path) -> Path:
    for label, name in enumerate(["cat", "dog"]):
        (root / name).mkdir(parents=True)
        for i in range(3):
            write_png(root / name / f"{i}.png", np.full((6, 5, 3), 40 * label + i, dtype=np.uint8))
    return root


def test_image_folder(tmp_path: Path) -> None:
    root = _image_folder(tmp_path / "imgs")
    (root / "cat" / "notes.txt").write_text("ignored")
    data = read_data(root)
    assert data.classes == ["cat", "dog"]
    assert data.x.shape == (6, 3, 6, 5)
    assert data.y.tolist() == [0, 0, 0, 1, 1, 1]
    assert data.x[4, 0, 0, 0].item() == pytest.approx(41 / 255)


def test_image_folder_mixed_grey_and_colour(tmp_path: Path) -> None:
    root = _image_folder(tmp_path / "imgs")
    write_png(root / "cat" / "grey.png", np.zeros((6, 5), dtype=np.uint8))
    assert read_data(root).x.shape == (7, 3, 6, 5)


def test_image_folder_errors(tmp_path: Path) -> None:
    (tmp_path / "flat").mkdir()
    with pytest.raises(DataError, match="has no class subfolders"):
        read_data(tmp_path / "flat")
    root = _image_folder(tmp_path / "imgs")
    (root / "empty").mkdir()
    with pytest.raises(DataError, match="empty has no images"):
        read_data(root)
    (root / "empty").rmdir()
    write_png(root / "dog" / "big.png", np.zeros((9, 9), dtype=np.uint8))
    with pytest.raises(DataError, match=r"big.png is 9x9 but .* is 5x6; all images must have the same size"):
        read_data(root)
    (root / "dog" / "big.png").write_bytes(b"broken")
    with pytest.raises(DataError, match=r"big.png cannot be read: it does not start with the PNG signature"):
        read_data(root)
