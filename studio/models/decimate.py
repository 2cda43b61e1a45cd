"""Peak (min/max) decimation of a sorted series to about the number of pixels it is drawn on.

Handing pyqtgraph a million points each frame costs tens of milliseconds even with its own downsampling; cutting
the visible slice into ``buckets`` equal-count chunks and keeping each chunk's minimum and maximum (in x order)
draws the same picture, spikes included, from ~2 points per pixel, in a couple of milliseconds.

Examples:
    >>> import numpy as np
    >>> x, y = peak_decimate(np.arange(10.0), np.array([0, 5, 1, 1, 1, 1, -3, 1, 1, 1.0]), 0, 9, buckets=2)
    >>> y.tolist()
    [0.0, 5.0, 1.0, -3.0]
"""

from __future__ import annotations

import numpy as np

__all__ = ["peak_decimate", "PeakCache"]


def peak_decimate(x: np.ndarray, y: np.ndarray, x_lo: float, x_hi: float, buckets: int = 2000,
                  margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """The points of (``x``, ``y``) to draw for the view ``[x_lo, x_hi]`` (plus ``margin`` of it on each side).

    Series with at most ``4 * buckets`` visible points are returned as they are (sliced); longer ones become the
    min and max of each bucket, in the order they occur, so lines connect the way the raw data does. Non-finite
    values are dropped from the decimated output.
    """
    n = len(x)
    if n == 0:
        return x, y
    span = x_hi - x_lo
    lo = int(np.searchsorted(x, x_lo - margin * span, side="left"))
    hi = int(np.searchsorted(x, x_hi + margin * span, side="right"))
    lo, hi = max(lo - 1, 0), min(hi + 1, n)
    xs, ys = x[lo:hi], y[lo:hi]
    count = hi - lo
    if count <= 4 * buckets:
        return xs, ys
    finite = np.isfinite(ys)
    if not finite.all():
        xs, ys = xs[finite], ys[finite]
        count = len(xs)
        if count <= 4 * buckets:
            return xs, ys
    size = count // buckets
    whole = size * buckets
    blocks = ys[:whole].reshape(buckets, size)
    base = np.arange(buckets) * size
    idx_min = base + blocks.argmin(axis=1)
    idx_max = base + blocks.argmax(axis=1)
    order = np.empty(2 * buckets, dtype=np.int64)
    order[0::2] = np.minimum(idx_min, idx_max)
    order[1::2] = np.maximum(idx_min, idx_max)
    if whole < count:  # the newest few points stay exact
        order = np.concatenate([order, np.arange(whole, count)])
    return xs[order], ys[order]


class PeakCache:
    """Incremental :func:`peak_decimate` of a growing series over its whole range (the "follow" view).

    Completed chunks of ``chunk`` points keep their (min, max) indices, so each redraw only looks at points added
    since the last one; ``chunk`` doubles (one full rebuild, cheap) when the series outgrows ``2 * buckets`` chunks.
    """

    def __init__(self) -> None:
        self.chunk = 0
        self.done = 0
        self.seen = 0
        self.order = np.empty(0, dtype=np.int64)

    def reset(self) -> None:
        """Forget everything (the data changed other than by appending)."""
        self.chunk = 0

    def update(self, x: np.ndarray, y: np.ndarray, buckets: int = 2000) -> tuple[np.ndarray, np.ndarray]:
        """Points to draw for all of (``x``, ``y``), which only grew since the previous call."""
        n = len(y)
        if n <= 4 * buckets:
            self.chunk = 0
            return x, y
        if self.chunk == 0 or n < self.seen or n // self.chunk > 4 * buckets:
            chunk = 1
            while n // chunk > 2 * buckets:
                chunk *= 2
            self.chunk, self.done, self.order = chunk, 0, np.empty(0, dtype=np.int64)
        self.seen = n
        complete = n // self.chunk
        if complete > self.done:
            start, stop = self.done * self.chunk, complete * self.chunk
            blocks = y[start:stop].reshape(complete - self.done, self.chunk)
            base = start + np.arange(complete - self.done) * self.chunk
            idx_min = base + blocks.argmin(axis=1)
            idx_max = base + blocks.argmax(axis=1)
            fresh = np.empty(2 * len(base), dtype=np.int64)
            fresh[0::2] = np.minimum(idx_min, idx_max)
            fresh[1::2] = np.maximum(idx_min, idx_max)
            self.order = np.concatenate([self.order, fresh])
            self.done = complete
        order = np.concatenate([self.order, np.arange(self.done * self.chunk, n)])
        return x[order], y[order]
