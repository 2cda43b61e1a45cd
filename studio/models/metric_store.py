"""Growing numpy buffers for metric series, read by the plot views on a timer.

Each series keeps float64 ``x``/``y`` arrays that double when full (amortised O(1) append, no per-point Python
objects). Points arrive with non-decreasing ``x`` (the global step); a point at the same ``x`` as the last one
replaces it, so a metric reported by two events of one step (the logger payload and the epoch summary) is stored
once. Past ``max_points`` a series keeps every other point (the whole history stays visible at half the density).

A series also keeps its EMA-smoothed values (the metric grid's smoothing) once asked for them, in a buffer grown
with its own, and smooths only the points added since: a chart that scrolls into view for the first time does not
smooth a million points on the GUI thread.

Examples:
    >>> store = MetricStore()
    >>> store.add("loss", 0, 1.0)
    >>> store.add("loss", 1, 0.5)
    >>> x, y = store.series("loss").view()
    >>> list(y)
    [1.0, 0.5]
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from studio.models.smoothing import EmaCache

__all__ = ["Series", "MetricStore", "StepClock", "to_number"]


def to_number(value: object) -> float | None:
    """A finite-or-not float from an event value (``"nan"``/``"inf"`` strings included), else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class Series:
    """One metric's points.

    Attributes:
        name: the metric name as logged.
        kind: ``"step"`` (per-batch points) or ``"epoch"`` (one point per epoch/validation run).
        version: increases on every change; views redraw a series only when it moved.
    """

    __slots__ = ("name", "kind", "version", "max_points", "_x", "_y", "_n", "_ema")

    def __init__(self, name: str, kind: str = "step", capacity: int = 1024, max_points: int = 4_000_000) -> None:
        self.name = name
        self.kind = kind
        self.version = 0
        self.max_points = max_points
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self._n = 0
        self._ema: EmaCache | None = None

    def __len__(self) -> int:
        return self._n

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """The stored points as read-only views (no copy)."""
        x, y = self._x[: self._n], self._y[: self._n]
        x.flags.writeable = False
        y.flags.writeable = False
        return x, y

    def smoothed(self, weight: float) -> np.ndarray:
        """The debiased EMA of the values (see :mod:`studio.models.smoothing`), kept and extended incrementally.

        A new ``weight`` smooths the whole series again. Returns a view, valid until the series next changes.
        """
        out = self._smoother().update(self._y[: self._n], weight)
        assert out is not None  # without a budget every point is smoothed
        return out

    def smooth_some(self, weight: float, budget: int) -> bool:
        """Smooth at most ``budget`` more points for ``weight`` (spreads a long history over several calls).

        Returns:
            True when every point is smoothed.
        """
        return self._smoother().update(self._y[: self._n], weight, budget) is not None

    def _smoother(self) -> EmaCache:
        if self._ema is None:
            self._ema = EmaCache()
            self._ema.reserve(len(self._x))
        return self._ema

    def smoothing_lag(self, weight: float) -> int:
        """How many points :meth:`smoothed` would still have to smooth for ``weight``."""
        return self._n if self._ema is None else self._ema.lag(self._n, weight)

    def last(self) -> tuple[float, float] | None:
        """The newest point, or None when empty."""
        return (float(self._x[self._n - 1]), float(self._y[self._n - 1])) if self._n else None

    def append(self, x: float, y: float) -> bool:
        """Add one point; returns False when it was dropped because ``x`` went backwards."""
        n = self._n
        if n:
            last_x = self._x[n - 1]
            if x < last_x:
                return False
            if x == last_x:
                self._y[n - 1] = y
                if self._ema is not None:
                    self._ema.rewind_newest(n)
                self.version += 1
                return True
        if n == len(self._x):
            self._grow(n + 1)
            n = self._n
        self._x[n] = x
        self._y[n] = y
        self._n = n + 1
        self.version += 1
        return True

    def extend(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Add many points at once (assumed sorted by ``x`` and after the last stored point)."""
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        if self._n:
            keep = xs > self._x[self._n - 1]
            xs, ys = xs[keep], ys[keep]
        count = len(xs)
        if not count:
            return
        if self._n + count > len(self._x):
            self._grow(self._n + count)
        self._x[self._n : self._n + count] = xs
        self._y[self._n : self._n + count] = ys
        self._n += count
        self.version += 1

    def clear(self) -> None:
        """Drop every point (the buffers are kept for reuse)."""
        self._n = 0
        self.version += 1

    def _grow(self, needed: int) -> None:
        if needed > self.max_points:
            # Halve the density of what is stored rather than forget the start of the run.
            extra = needed - self._n
            kept = (self._n + 1) // 2
            self._x[:kept] = self._x[: self._n : 2]
            self._y[:kept] = self._y[: self._n : 2]
            self._n = kept
            if self._ema is not None:
                self._ema.reset()  # every other point is gone: the average of what is left differs
            needed = kept + extra
            if needed <= len(self._x):
                return
        capacity = max(needed, min(len(self._x) * 2, self.max_points))
        x = np.empty(capacity, dtype=np.float64)
        y = np.empty(capacity, dtype=np.float64)
        x[: self._n] = self._x[: self._n]
        y[: self._n] = self._y[: self._n]
        self._x, self._y = x, y
        if self._ema is not None:
            self._ema.reserve(capacity)


class StepClock:
    """Which epoch and wall-clock second each global step was reached at, so charts can put epoch or time on x.

    Noted from the events that carry all three (progress samples, logged metrics); steps in between are
    interpolated, so a step-indexed series maps to epoch or seconds without storing either per point.
    """

    def __init__(self) -> None:
        self._steps = Series("step", capacity=256)
        self._epochs = Series("epoch", capacity=256)
        self._times = Series("time", capacity=256)

    def __len__(self) -> int:
        return len(self._steps)

    def note(self, step: float, epoch: object, time: object) -> None:
        """Record that ``step`` was reached in ``epoch`` at ``time`` (seconds since the epoch); others ignored."""
        if not isinstance(epoch, (int, float)) or not isinstance(time, (int, float)) or isinstance(epoch, bool):
            return
        if self._steps.append(float(step), float(step)):
            self._epochs.append(float(step), float(epoch))
            self._times.append(float(step), float(time))

    def to_epoch(self, steps: np.ndarray) -> np.ndarray:
        """The epoch of each step (the steps themselves while nothing was noted)."""
        return self._map(steps, self._epochs)

    def to_seconds(self, steps: np.ndarray) -> np.ndarray:
        """Seconds since the first noted step for each step (the steps themselves while nothing was noted)."""
        mapped = self._map(steps, self._times)
        if len(self._times):
            mapped = mapped - self._times.view()[1][0]
        return mapped

    def _map(self, steps: np.ndarray, target: Series) -> np.ndarray:
        x, y = target.view()
        if not len(x):
            return np.asarray(steps, dtype=np.float64)
        return np.interp(steps, x, y)

    def clear(self) -> None:
        """Forget every noted step."""
        for series in (self._steps, self._epochs, self._times):
            series.clear()


class MetricStore:
    """All metric series of one run, by name.

    Attributes:
        version: increases whenever any series changes or a series is added.
        clock: the step -> epoch / wall-time map of the run (for the charts' x axis choice).
    """

    def __init__(self) -> None:
        self._series: dict[str, Series] = {}
        self.version = 0
        self.clock = StepClock()

    def names(self) -> list[str]:
        """Series names in first-seen order."""
        return list(self._series)

    def series(self, name: str) -> Series:
        """The series called ``name`` (KeyError if it never received a point)."""
        return self._series[name]

    def get(self, name: str) -> Series | None:
        """The series called ``name`` or None."""
        return self._series.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._series

    def add(self, name: str, x: float, y: float, kind: str = "step") -> None:
        """Append one point to ``name`` (created on first use with ``kind``; an existing series keeps its kind)."""
        series = self._series.get(name)
        if series is None:
            series = self._series[name] = Series(name, kind)
        if series.append(float(x), float(y)):
            self.version += 1

    def add_many(self, x: float, values: dict[str, object], kind: str = "step", skip: Iterable[str] = ()) -> int:
        """Append ``values`` (name -> number) at one ``x``; non-numbers and ``skip`` names are ignored."""
        skipped = set(skip)
        added = 0
        for name, value in values.items():
            number = to_number(value)
            if number is None or name in skipped or (math.isnan(number) and name not in self._series):
                continue
            self.add(name, x, number, kind)
            added += 1
        return added

    def clear(self) -> None:
        """Forget every series (a new run starts)."""
        self._series.clear()
        self.clock.clear()
        self.version += 1
