"""Debiased exponential moving average, vectorised and incremental (the TensorBoard smoothing users expect).

``last = w * last + (1 - w) * y`` over the finite points, output ``last / (1 - w ** count)``; non-finite points
pass through unchanged and do not move the average; a constant series is returned untouched. The recurrence is
evaluated in numpy chunks (closed form within a chunk, all chunks at once, state carried across chunks), so a
1,000,000-point series smooths in tens of milliseconds, and :class:`EmaCache` only processes points appended since
the last call.

Examples:
    >>> import numpy as np
    >>> ema(np.array([1.0, 0.0]), 0.5).tolist()
    [1.0, 0.3333333333333333]
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ema", "ema_step", "EmaCache"]


def ema_step(y: np.ndarray, weight: float, last: float, count: int) -> tuple[np.ndarray, float, int]:
    """Smooth finite ``y`` continuing from state (``last``, ``count``); returns (smoothed, last, count)."""
    n = len(y)
    out = np.empty(n, dtype=np.float64)
    if n == 0:
        return out, last, count
    if weight <= 0.0:
        out[:] = y
        return out, float(y[-1]), count + n
    log_w = math.log(weight)
    # Within a chunk, last_t = w^(t+1) * carry + (1-w) * sum_k w^(t-k) y_k; keep w^-k representable. All chunks
    # are evaluated at once as the rows of a matrix (a Python loop per chunk made 1,000,000 points cost 300 ms);
    # only the carry from one chunk to the next is a loop, over the rows.
    chunk = max(1, min(8192, int(600.0 / -log_w)))
    rows = -(-n // chunk)
    matrix = np.zeros(rows * chunk, dtype=np.float64)
    matrix[:n] = y
    matrix = matrix.reshape(rows, chunk)
    k = np.arange(chunk, dtype=np.float64)
    w_pow = np.exp(log_w * (k + 1))  # w^(t+1)
    # In place: a million points make each temporary array 8 MB.
    matrix *= np.exp(-log_w * k)
    local = np.cumsum(matrix, axis=1, out=matrix)  # sum_k y_k w^-k
    local *= (1.0 - weight) * w_pow / weight  # each chunk's average as if it started from 0
    carry_factor = math.exp(log_w * chunk)
    carries = np.empty(rows, dtype=np.float64)
    state = last
    for row in range(rows):
        carries[row] = state
        state = float(local[row, -1]) + carry_factor * state
    local += w_pow[None, :] * carries[:, None]
    values = local.reshape(-1)[:n]
    # Debiasing divides by 1 - w^count, which is exactly 1.0 in float64 once w^count < 1e-17: only the first
    # points of a series need it (an exp per point over a whole chunk was a third of the cost).
    biased = min(n, max(0, int(39.2 / -log_w) + 2 - count))
    out[biased:] = values[biased:]
    if biased:
        counts = count + np.arange(1, biased + 1, dtype=np.float64)
        out[:biased] = values[:biased] / (1.0 - np.exp(log_w * counts))
    return out, float(values[-1]), count + n


def ema(y: np.ndarray, weight: float) -> np.ndarray:
    """The smoothed copy of ``y`` (see module docstring)."""
    y = np.asarray(y, dtype=np.float64)
    finite = np.isfinite(y)
    values = y[finite]
    if len(values) == 0 or weight <= 0.0 or np.all(values == values[0]):
        return y.copy()
    smoothed, _, _ = ema_step(values, weight, 0.0, 0)
    out = y.copy()
    out[finite] = smoothed
    return out


class EmaCache:
    """Incremental smoothing of one growing series: recomputes only the new tail unless the weight changed.

    The smoothed values live in one buffer that :meth:`reserve` grows with the series' own buffers, so a redraw
    never copies the whole history; :meth:`update` with a ``budget`` advances at most that many points, so the
    first smoothing of a long history can be spread over several event-loop turns.
    """

    def __init__(self) -> None:
        self.weight = -1.0
        self.done = 0
        self.last = 0.0
        self.count = 0
        self.out = np.empty(0, dtype=np.float64)
        self.first: float | None = None
        self.constant = True
        # The average before the newest smoothed point, so a replaced newest point is re-smoothed exactly.
        self._before_newest = (0.0, 0)

    def lag(self, n: int, weight: float) -> int:
        """How many of a series' ``n`` points :meth:`update` still has to smooth for ``weight``."""
        if weight != self.weight or n < self.done:
            return n
        return n - self.done

    def reserve(self, capacity: int) -> None:
        """Make room for ``capacity`` smoothed points (the series grew its buffers; one copy, here, not on draw)."""
        if capacity > len(self.out):
            grown = np.empty(capacity, dtype=np.float64)
            grown[: self.done] = self.out[: self.done]
            self.out = grown

    def reset(self) -> None:
        """Forget the smoothed values (the series changed other than by appending)."""
        self.weight = -1.0

    def rewind_newest(self, n: int) -> None:
        """The newest of the series' ``n`` points was replaced: smooth it again on the next update."""
        if self.done == n and n > 0:
            self.done = n - 1
            self.last, self.count = self._before_newest

    def update(self, y: np.ndarray, weight: float, budget: int | None = None) -> np.ndarray | None:
        """The smoothed series for ``y`` (which only grew since the previous call, or restarts).

        Args:
            y: the series' values, all of them.
            weight: the EMA weight in [0, 1).
            budget: smooth at most this many new points now; None smooths all of them.

        Returns:
            The smoothed values of all of ``y``, or None while ``budget`` left points unsmoothed (call again).
        """
        n = len(y)
        if weight != self.weight or n < self.done:
            self.weight, self.done, self.last, self.count = weight, 0, 0.0, 0
            self.first, self.constant = None, True
            self._before_newest = (0.0, 0)
            if len(self.out) < 1024:
                self.out = np.empty(max(n, 1024), dtype=np.float64)
        if n > len(self.out):
            self.reserve(max(n, 2 * len(self.out)))
        stop = n if budget is None else min(n, self.done + max(1, budget))
        if stop > self.done:
            # The newest point is smoothed on its own, keeping the average before it (see rewind_newest).
            split = stop - 1 if stop == n else stop
            self._smooth(np.asarray(y[self.done : split], dtype=np.float64), self.done)
            self._before_newest = (self.last, self.count)
            self._smooth(np.asarray(y[split:stop], dtype=np.float64), split)
            self.done = stop
        if stop < n:
            return None
        if self.constant:
            return np.asarray(y, dtype=np.float64)
        return self.out[:n]

    def _smooth(self, tail: np.ndarray, start: int) -> None:
        if not len(tail):
            return
        finite = np.isfinite(tail)
        values = tail[finite]
        if len(values):
            if self.first is None:
                self.first = float(values[0])
            self.constant = self.constant and bool(np.all(values == self.first))
        smoothed, self.last, self.count = ema_step(values, self.weight, self.last, self.count)
        result = tail.copy()
        result[finite] = smoothed
        self.out[start : start + len(tail)] = result
