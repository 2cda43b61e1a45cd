"""Read (and write) small images without extra dependencies.

PNG (all colour types, bit depths 1-16, not interlaced), binary and text PPM/PGM, and ``.npy`` arrays are read
with the standard library and numpy. Other formats (JPEG, BMP, GIF, ...) are read with Pillow when it is installed;
Pillow is optional (``pip install pillow``). Images come back as float32 arrays of shape (H, W, C) in [0, 1], with
alpha dropped and palettes expanded, so C is 1 (grey) or 3 (colour).

Examples:
    >>> import numpy as np
    >>> write_png("dot.png", np.zeros((4, 4, 3), dtype=np.uint8))   # doctest: +SKIP
    >>> read_image("dot.png").shape                                   # doctest: +SKIP
    (4, 4, 3)
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IMAGE_SUFFIXES", "ImageFormatError", "read_image", "write_png"]

_BUILTIN = (".png", ".ppm", ".pgm", ".pnm", ".npy")
_PILLOW_ONLY = (".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
IMAGE_SUFFIXES = _BUILTIN + _PILLOW_ONLY
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ImageFormatError(ValueError):
    """The file is not a readable image; the message says why (the caller adds the file name)."""


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one image as a float32 (H, W, C) array in [0, 1] with C = 1 or 3.

    Raises:
        ImageFormatError: corrupt file, unsupported variant, or a format that needs Pillow when it is missing.
        OSError: the file cannot be read.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        image = _read_png(Path(path).read_bytes())
    elif suffix in (".ppm", ".pgm", ".pnm"):
        image = _read_pnm(Path(path).read_bytes())
    elif suffix == ".npy":
        image = _from_npy(np.load(path, allow_pickle=False))
    elif suffix in _PILLOW_ONLY:
        image = _read_with_pillow(path)
    else:
        raise ImageFormatError(f"'{suffix}' is not an image format this loader reads ({', '.join(IMAGE_SUFFIXES)})")
    return _normalise(image)


def _normalise(image: np.ndarray) -> np.ndarray:
    """(H, W[, C]) integer or float array -> float32 (H, W, 1|3) in [0, 1]."""
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels in (2, 4):  # drop alpha: models see colour, and mixing alpha/no-alpha files would break stacking
        image = image[:, :, : channels - 1]
    if image.dtype == np.uint8:
        return image.astype(np.float32) / 255.0
    if image.dtype == np.uint16:
        return image.astype(np.float32) / 65535.0
    if np.issubdtype(image.dtype, np.integer) or image.dtype == bool:
        top = float(image.max()) if image.size else 1.0
        return image.astype(np.float32) / (top if top > 1 else 1.0)
    return image.astype(np.float32)


def _from_npy(array: np.ndarray) -> np.ndarray:
    if array.ndim == 2:
        return array
    if array.ndim == 3 and array.shape[2] in (1, 2, 3, 4):
        return array
    if array.ndim == 3 and array.shape[0] in (1, 3):  # (C, H, W) as torch writes it
        return np.transpose(array, (1, 2, 0))
    raise ImageFormatError(f"a .npy image must be (H, W), (H, W, C) or (C, H, W) with C in 1..4, not {array.shape}")


def _read_with_pillow(path: str | os.PathLike[str]) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError as err:
        raise ImageFormatError(
            f"{Path(path).suffix} images need Pillow, which is not installed: `pip install pillow`, or convert the "
            "images to PNG"
        ) from err
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB" if img.mode not in ("L", "I;16") else img.mode))
    except (OSError, ValueError) as err:
        raise ImageFormatError(f"Pillow cannot read it ({err})") from err


# --- PNG ---------------------------------------------------------------------------------------------------------

_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # colour type -> samples per pixel


def _read_png(data: bytes) -> np.ndarray:
    if not data.startswith(_PNG_MAGIC):
        raise ImageFormatError("it does not start with the PNG signature")
    pos, header, palette, idat = 8, None, None, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos: pos + 8])
        body = data[pos + 8: pos + 8 + length]
        if len(body) != length:
            raise ImageFormatError("the file is truncated")
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = np.frombuffer(body, dtype=np.uint8).reshape(-1, 3)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None or not idat:
        raise ImageFormatError("the PNG has no image header or no image data")
    width, height, depth, colour, _compression, _filter, interlace = header
    if colour not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise ImageFormatError(f"unsupported PNG colour type {colour} / bit depth {depth}")
    if interlace:
        raise ImageFormatError("interlaced PNGs are not supported: re-save it without interlacing")
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as err:
        raise ImageFormatError(f"its compressed data is corrupt ({err})") from err
    samples = _CHANNELS[colour]
    row_bytes = (width * samples * depth + 7) // 8
    if len(raw) < height * (row_bytes + 1):
        raise ImageFormatError("the image data is shorter than the header says")
    rows = _unfilter(raw, height, row_bytes, max(1, samples * depth // 8))
    if depth == 16:
        image = rows.view(">u2").reshape(height, width, samples).astype(np.uint16)
    elif depth == 8:
        image = rows.reshape(height, width, samples)
    else:
        bits = np.unpackbits(rows, axis=1).reshape(height, -1, depth)[:, : width * samples]
        weights = (1 << np.arange(depth - 1, -1, -1)).astype(np.uint8)
        values = (bits * weights).sum(axis=2).astype(np.uint8)
        image = values.reshape(height, width, samples)
        if colour == 0:  # scale grey levels up to 8 bits so 1-bit white is 255
            image = (image * (255 // ((1 << depth) - 1))).astype(np.uint8)
    if colour == 3:
        if palette is None:
            raise ImageFormatError("a palette PNG without a palette")
        image = palette[np.clip(image[:, :, 0], 0, len(palette) - 1)]
    return image


def _unfilter(raw: bytes, height: int, row_bytes: int, bpp: int) -> np.ndarray:
    """Undo PNG's per-row filters (None, Sub, Up, Average, Paeth)."""
    out = np.zeros((height, row_bytes), dtype=np.uint8)
    prev = np.zeros(row_bytes, dtype=np.int32)
    stride = row_bytes + 1
    for y in range(height):
        kind = raw[y * stride]
        line = np.frombuffer(raw, dtype=np.uint8, count=row_bytes, offset=y * stride + 1).astype(np.int32)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + prev) & 0xFF
        elif kind == 1:
            # Each byte adds the reconstructed byte bpp to its left: a running sum per channel, modulo 256.
            padded = np.zeros(((row_bytes + bpp - 1) // bpp) * bpp, dtype=np.int64)
            padded[:row_bytes] = line
            cur = (np.cumsum(padded.reshape(-1, bpp), axis=0).reshape(-1)[:row_bytes] & 0xFF).astype(np.int32)
        elif kind in (3, 4):
            cur = _unfilter_sequential(line, prev, bpp, paeth=kind == 4)
        else:
            raise ImageFormatError(f"row {y} has an unknown filter type {kind}")
        out[y] = cur
        prev = cur
    return out


def _unfilter_sequential(line: np.ndarray, prev: np.ndarray, bpp: int, *, paeth: bool) -> np.ndarray:
    # Average and Paeth depend on the byte just reconstructed, so go one pixel (bpp bytes) at a time.
    cur = np.zeros_like(line)
    zeros = np.zeros(bpp, dtype=np.int32)
    for start in range(0, len(line), bpp):
        end = min(start + bpp, len(line))
        up = prev[start:end]
        left = cur[start - bpp: end - bpp] if start else zeros[: end - start]
        if paeth:
            corner = prev[start - bpp: end - bpp] if start else zeros[: end - start]
            p = left + up - corner
            pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - corner)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))
        else:
            pred = (left + up) // 2
        cur[start:end] = (line[start:end] + pred) & 0xFF
    return cur


def write_png(path: str | os.PathLike[str], image: np.ndarray) -> None:
    """Write a uint8 (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array as a PNG (used to generate example data)."""
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"write_png takes uint8 pixels, not {array.dtype}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    colour = {2: 0, 3: {3: 2, 4: 6}.get(array.shape[-1], -1)}.get(array.ndim, -1)
    if colour < 0:
        raise ValueError(f"write_png takes (H, W), (H, W, 3) or (H, W, 4) arrays, not {array.shape}")
    height, width = array.shape[:2]
    rows = array.reshape(height, -1)
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    Path(path).write_bytes(_PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                           + chunk(b"IEND", b""))


# --- PPM / PGM -----------------------------------------------------------------------------------------------------


def _read_pnm(data: bytes) -> np.ndarray:
    magic = data[:2]
    if magic not in (b"P2", b"P3", b"P5", b"P6"):
        raise ImageFormatError("it is not a PGM/PPM file (expected P2, P3, P5 or P6 at the start)")
    channels = 3 if magic in (b"P3", b"P6") else 1
    fields: list[bytes] = []
    pos = 2
    while len(fields) < 3:  # width, height, maxval, skipping comments
        while pos < len(data) and data[pos: pos + 1].isspace():
            pos += 1
        if data[pos: pos + 1] == b"#":
            pos = data.find(b"\n", pos) + 1 or len(data)
            continue
        start = pos
        while pos < len(data) and not data[pos: pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ImageFormatError("the header is incomplete")
        fields.append(data[start:pos])
    try:
        width, height, maxval = (int(f) for f in fields)
    except ValueError as err:
        raise ImageFormatError("the header has non-numeric size fields") from err
    count = width * height * channels
    if magic in (b"P5", b"P6"):
        dtype = np.dtype(">u2") if maxval > 255 else np.dtype(np.uint8)
        body = data[pos + 1:]
        if len(body) < count * dtype.itemsize:
            raise ImageFormatError("the pixel data is shorter than the header says")
        values = np.frombuffer(body, dtype=dtype, count=count)
    else:
        values = np.array(data[pos:].split()[:count], dtype=np.int64)
        if values.size < count:
            raise ImageFormatError("the pixel data is shorter than the header says")
    image = values.reshape(height, width, channels).astype(np.float32) / float(maxval or 1)
    return image
