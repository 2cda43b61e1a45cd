"""Media for the run record: image arrays to PNG, histograms as compact bins, and a background worker.

Everything here is independent of TensorBoard: :mod:`trainer_core.telemetry.writer` uses it to put what a script
logs through ``logger.experiment`` into the run folder (``media/<tag>/<step>.png``) and ``events.jsonl``.

Histograms are computed where the values live (GPU or CPU) as one small tensor of statistics and uniform bin
counts; only the background worker copies that tensor to the host, so the training thread never waits for the
device. Uniform bins between the finite minimum and maximum keep the record compact: the edges follow from
``min``, ``max`` and the number of counts, so an event stores just those.
"""

from __future__ import annotations

import io
import math
import os
import queue
import re
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

__all__ = [
    "DEFAULT_BINS",
    "MediaWorker",
    "bin_count",
    "device_histogram",
    "encode_png",
    "figure_to_array",
    "histogram_fields",
    "media_path",
    "to_hwc_uint8",
]

DEFAULT_BINS = 30
_MAX_BINS = 512
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def bin_count(bins: Any, max_bins: int | None = None) -> int:
    """The number of uniform bins for ``add_histogram``'s ``bins`` (an int; a numpy rule name means the default).

    TensorBoard's ``"tensorflow"`` rule (exponential buckets) and numpy's named rules become :data:`DEFAULT_BINS`
    uniform bins: the studio draws uniform bins and the record stays a fixed, small size.
    """
    count = int(bins) if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool) else DEFAULT_BINS
    if max_bins:
        count = min(count, int(max_bins))
    return max(1, min(count, _MAX_BINS))


def device_histogram(values: Any, bins: int) -> torch.Tensor:
    """Statistics and bin counts of ``values`` as one float tensor on the values' device (no host sync).

    Layout: ``[min, max, num, sum, sum_squares, count_0, ..., count_{bins-1}]`` over the finite values; bins are
    uniform between min and max, the last one closed. Non-finite values are left out of every number.
    """
    tensor = values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    flat = tensor.detach().reshape(-1)
    dtype = torch.float32 if flat.device.type == "mps" else torch.float64
    flat = flat.to(dtype)
    finite = torch.isfinite(flat)
    weights = finite.to(dtype)
    inf = flat.new_full((), math.inf)  # filled on the device: no host-to-device copy
    if flat.numel() == 0:
        return torch.zeros(5 + bins, dtype=dtype, device=flat.device)
    low = torch.where(finite, flat, inf).amin()
    high = torch.where(finite, flat, -inf).amax()
    any_finite = weights.sum() > 0
    low = torch.where(any_finite, low, torch.zeros_like(low))
    high = torch.where(any_finite, high, torch.zeros_like(high))
    span = high - low
    scale = torch.where(span > 0, bins / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(span))
    clean = torch.where(finite, flat, low)
    index = ((clean - low) * scale).floor().clamp_(0, bins - 1).to(torch.long)
    # scatter_add, not bincount: CUDA's bincount reads the largest index on the host to size its output (a sync).
    counts = torch.zeros(bins, dtype=dtype, device=flat.device).scatter_add_(0, index, weights)
    stats = torch.stack([low, high, weights.sum(), (clean * weights).sum(), (clean * clean * weights).sum()])
    return torch.cat([stats, counts])


def histogram_fields(stats: torch.Tensor) -> dict[str, Any]:
    """The ``histogram`` event's numbers from :func:`device_histogram`'s tensor (copies it to the host)."""
    numbers = stats.detach().cpu().tolist()
    low, high, num, total, squares = numbers[:5]
    return {
        "min": float(low),
        "max": float(high),
        "num": int(round(num)),
        "sum": float(total),
        "sum_squares": float(squares),
        "counts": [int(round(c)) for c in numbers[5:]],
    }


def to_hwc_uint8(image: Any, dataformats: str = "CHW") -> np.ndarray:
    """An image array in any of TensorBoard's layouts as ``H x W x C`` uint8 with C in (1, 3, 4).

    Floats are taken as 0..1 and scaled by 255 (as ``SummaryWriter.add_image`` does); batches (``N`` in the
    layout) become a grid of up to 8 columns.
    """
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    layout = dataformats.upper()
    if len(layout) != array.ndim:
        raise ValueError(f"an image with dataformats={dataformats!r} needs {len(layout)} dimensions, "
                         f"got shape {tuple(array.shape)}")
    if "C" not in layout:
        array, layout = array[..., None], layout + "C"
    if "N" not in layout:
        array, layout = array[None], "N" + layout
    array = np.transpose(array, [layout.index(axis) for axis in "NHWC"])
    if array.dtype != np.uint8:
        scale = 255.0 if np.issubdtype(array.dtype, np.floating) else 1.0
        array = np.clip(array.astype(np.float32) * scale, 0, 255).round().astype(np.uint8)
    if array.shape[-1] == 2 or array.shape[-1] > 4:
        raise ValueError(f"an image needs 1, 3 or 4 channels, got {array.shape[-1]}")
    return _grid(array)


def _grid(batch: np.ndarray, columns: int = 8, padding: int = 2) -> np.ndarray:
    count, height, width, channels = batch.shape
    if count == 1:
        return batch[0]
    cols = min(count, columns)
    rows = math.ceil(count / cols)
    out = np.zeros((rows * (height + padding) + padding, cols * (width + padding) + padding, channels), np.uint8)
    for i in range(count):
        top = padding + (i // cols) * (height + padding)
        left = padding + (i % cols) * (width + padding)
        out[top:top + height, left:left + width] = batch[i]
    return out


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of an ``H x W x C`` uint8 array, with Pillow."""
    from PIL import Image

    mode = {1: "L", 3: "RGB", 4: "RGBA"}[image.shape[-1]]
    pixels = image[..., 0] if mode == "L" else image
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels), mode=mode).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def figure_to_array(figure: Any, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure on the calling thread (matplotlib is not thread-safe) as ``H x W x 4`` uint8."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba()).copy()
    pyplot = sys.modules.get("matplotlib.pyplot")
    if close and pyplot is not None:  # only pyplot-managed figures need closing; never import pyplot for it
        pyplot.close(figure)
    return pixels


def media_path(root: str, tag: str, step: int) -> str:
    """``root/media/<tag>/<step>.png``; each part of the tag made safe for a file name (``/`` keeps folders)."""
    parts = [(_UNSAFE.sub("_", part).strip(".") or "_") for part in str(tag).split("/") if part]
    return os.path.join(root, "media", *(parts or ["_"]), f"{int(step)}.png")


class MediaWorker:
    """One background thread that runs encode-and-write jobs in order; :meth:`flush` waits for them all.

    A job that raises is reported on stderr and dropped: a picture that could not be written must never stop
    training.
    """

    def __init__(self, *, name: str = "trainer_core-media") -> None:
        self._name = name
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the worker thread (started on first use)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def flush(self) -> None:
        """Block until every submitted job has run."""
        if self._thread is not None:
            self._jobs.join()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is not None:
                    job()
            except Exception as error:  # noqa: BLE001 - reported, never raised into training
                print(f"trainer_core: a logged image or histogram could not be recorded: {error!r}",
                      file=sys.__stderr__)
            finally:
                self._jobs.task_done()
