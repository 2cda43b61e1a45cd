"""The dependency-free image reader: PNG filters and colour types, PPM/PGM, .npy."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from trainer_core.loading.images import ImageFormatError, read_image, write_png


def _png(path: Path, rows: list[bytes], width: int, height: int, depth: int, colour: int,
         palette: bytes | None = None) -> None:
    """A PNG whose rows already carry their filter byte (to test each filter)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    extra = chunk(b"PLTE", palette) if palette else b""
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra
                     + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def _filter(kind: int, row: np.ndarray, prev: np.ndarray, bpp: int) -> bytes:
    """Encode one row with PNG filter ``kind`` (the encoder side, written independently of the decoder)."""
    out = []
    for i, value in enumerate(row.tolist()):
        left = int(row[i - bpp]) if i >= bpp else 0
        up = int(prev[i])
        corner = int(prev[i - bpp]) if i >= bpp else 0
        if kind == 0:
            pred = 0
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = up
        elif kind == 3:
            pred = (left + up) // 2
        else:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
        out.append((value - pred) % 256)
    return bytes([kind] + out)


def test_every_filter_round_trips(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(10, 7, 3), dtype=np.uint8)
    flat = pixels.reshape(10, -1)
    rows, prev = [], np.zeros(flat.shape[1], dtype=np.uint8)
    for y in range(10):
        rows.append(_filter(y % 5, flat[y], prev, 3))
        prev = flat[y]
    _png(tmp_path / "f.png", rows, 7, 10, 8, 2)
    image = read_image(tmp_path / "f.png")
    assert image.shape == (10, 7, 3) and image.dtype == np.float32
    assert np.array_equal(np.round(image * 255).astype(np.uint8), pixels)


def test_write_png_grey_rgba_and_alpha_dropped(tmp_path: Path) -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    write_png(tmp_path / "g.png", grey)
    assert np.allclose(read_image(tmp_path / "g.png")[:, :, 0], grey / 255.0)
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    write_png(tmp_path / "a.png", rgba)
    image = read_image(tmp_path / "a.png")
    assert image.shape == (2, 2, 3) and image[0, 0, 0] == 1.0


def test_palette_and_16_bit_and_1_bit(tmp_path: Path) -> None:
    palette = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0])
    _png(tmp_path / "p.png", [b"\x00" + bytes([0, 1, 2])], 3, 1, 8, 3, palette)
    assert read_image(tmp_path / "p.png")[0].tolist() == [[0, 0, 0], [1, 0, 0], [0, 1, 0]]
    _png(tmp_path / "w.png", [b"\x00" + struct.pack(">HH", 0, 65535)], 2, 1, 16, 0)
    assert read_image(tmp_path / "w.png")[0, :, 0].tolist() == [0.0, 1.0]
    _png(tmp_path / "b.png", [b"\x00" + bytes([0b10100000])], 3, 1, 1, 0)
    assert read_image(tmp_path / "b.png")[0, :, 0].tolist() == [1.0, 0.0, 1.0]


def test_pnm_binary_and_text(tmp_path: Path) -> None:
    (tmp_path / "a.pgm").write_bytes(b"P5\n# comment\n2 1\n255\n" + bytes([0, 255]))
    assert read_image(tmp_path / "a.pgm")[0, :, 0].tolist() == [0.0, 1.0]
    (tmp_path / "b.ppm").write_text("P3 1 1 10\n10 5 0\n")
    assert read_image(tmp_path / "b.ppm")[0, 0].tolist() == [1.0, 0.5, 0.0]


def test_npy_channel_first(tmp_path: Path) -> None:
    np.save(tmp_path / "c.npy", np.ones((3, 4, 5), dtype=np.float32))
    assert read_image(tmp_path / "c.npy").shape == (4, 5, 3)


@pytest.mark.parametrize("name,content,message", [
    ("x.png", b"not a png", "PNG signature"),
    ("x.pgm", b"P9 1 1", "not a PGM/PPM"),
    ("x.bmp", b"BM", "Pillow"),
])
def test_bad_images_explain(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    if name.endswith(".bmp"):
        try:
            import PIL  # noqa: F401
        except ImportError:
            pass
        else:
            message = "Pillow cannot read it"
    with pytest.raises(ImageFormatError, match=message):
        read_image(tmp_path / name)


def test_truncated_png(tmp_path: Path) -> None:
    write_png(tmp_path / "t.png", np.zeros((8, 8), dtype=np.uint8))
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[:40])
    with pytest.raises(ImageFormatError):
        read_image(tmp_path / "t.png")
