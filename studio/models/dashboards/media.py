"""What a script logged through ``logger.experiment``: images by tag and step, histograms over steps, and text.

Fed by the ``image``, ``histogram`` and ``text`` events (docs/events.md) one at a time in O(1); the views ask for
what they draw (an image path at a step, a tag's step x value matrix) and cache by :attr:`MediaStore.version`.

Examples:
    >>> store = MediaStore()
    >>> store.add({"type": "histogram", "tag": "w", "step": 0, "min": 0.0, "max": 2.0, "counts": [1, 3]})
    >>> store.histogram_tags()
    ['w']
    >>> steps, edges, matrix = store.histogram_matrix("w", value_bins=2)
    >>> steps.tolist(), edges.tolist(), matrix.tolist()
    ([0.0], [0.0, 1.0, 2.0], [[1.0, 3.0]])
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["ImageRecord", "HistogramSeries", "MediaStore", "TextRecord", "resample_counts", "resample_many",
           "spread_of_series"]


@dataclass(frozen=True)
class ImageRecord:
    """One logged image: the step, the PNG path (relative to the run folder as recorded) and its size."""

    step: int
    path: str
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class TextRecord:
    """One ``add_text`` call."""

    tag: str
    step: int
    text: str


class HistogramSeries:
    """One tag's histograms in arrival order, in growing numpy arrays (rows picked by index without copying lists).

    Every row has the bin count of the first histogram; one logged with another count is spread over that many
    bins of its own range first (mass kept). Logging the same step again replaces the last row.
    """

    def __init__(self) -> None:
        self._size = 0
        self._steps = np.zeros(16)
        self._lows = np.zeros(16)
        self._highs = np.zeros(16)
        self._counts: np.ndarray | None = None

    def __len__(self) -> int:
        return self._size

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._size]

    @property
    def lows(self) -> np.ndarray:
        return self._lows[: self._size]

    @property
    def highs(self) -> np.ndarray:
        return self._highs[: self._size]

    @property
    def counts(self) -> np.ndarray:
        """``len x bins`` counts."""
        return self._counts[: self._size] if self._counts is not None else np.zeros((0, 0))

    def add(self, step: int, low: float, high: float, counts: list[int]) -> None:
        row = np.asarray(counts, dtype=np.float64)
        if self._counts is None:
            self._counts = np.zeros((16, max(len(row), 1)))
        bins = self._counts.shape[1]
        if len(row) != bins:
            row = resample_counts(row, low, high, np.linspace(low, high, bins + 1)) if len(row) else np.zeros(bins)
        if self._size and self._steps[self._size - 1] == step:
            index = self._size - 1  # logged again at the same step: the newest one counts
        else:
            if self._size == len(self._steps):
                self._grow()
            index = self._size
            self._size += 1
        self._steps[index], self._lows[index], self._highs[index] = step, low, high
        self._counts[index] = row

    def _grow(self) -> None:
        capacity = 2 * len(self._steps)
        for name in ("_steps", "_lows", "_highs"):
            grown = np.zeros(capacity)
            grown[: self._size] = getattr(self, name)[: self._size]
            setattr(self, name, grown)
        assert self._counts is not None
        counts = np.zeros((capacity, self._counts.shape[1]))
        counts[: self._size] = self._counts[: self._size]
        self._counts = counts


def resample_counts(counts: np.ndarray, low: float, high: float, edges: np.ndarray) -> np.ndarray:
    """Spread one histogram's uniform bins over new ``edges`` (mass split by overlap; all of a zero-width
    histogram goes to the bin holding its value)."""
    return resample_many(np.asarray(counts, dtype=np.float64)[None, :], np.array([low]), np.array([high]), edges)[0]


def resample_many(counts: np.ndarray, lows: np.ndarray, highs: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """:func:`resample_counts` for many histograms with the same number of bins at once (``P x B`` -> ``P x T``).

    The cumulative count is taken as linear inside each source bin (uniform density), evaluated at every target
    edge, and differenced: one vectorised pass, so a 400-step heatmap costs well under a millisecond.
    """
    rows, bins = counts.shape
    if not rows or not bins:
        return np.zeros((rows, len(edges) - 1))
    cumulative = np.concatenate([np.zeros((rows, 1)), np.cumsum(counts, axis=1)], axis=1)
    width = (highs - lows)[:, None]
    flat = width[:, 0] <= 0
    position = (edges[None, :] - lows[:, None]) / np.where(flat[:, None], 1.0, width) * bins
    position = np.clip(position, 0.0, float(bins))
    below = np.minimum(np.floor(position).astype(np.int64), bins - 1)
    fraction = position - below
    start = np.take_along_axis(cumulative, below, axis=1)
    in_bin = np.take_along_axis(counts, below, axis=1)
    at_edges = start + fraction * in_bin
    # A zero-width histogram is a point mass: all of it counts from the first edge above its value.
    point = np.where(edges[None, :] > lows[:, None], cumulative[:, -1:], 0.0)
    at_edges = np.where(flat[:, None], point, at_edges)
    if len(edges) and flat.any():
        # Mass exactly at or below the first edge still belongs to the first bin.
        at_edges[flat, 0] = 0.0
    return np.diff(at_edges, axis=1)


def spread_of_series(columns: list[tuple[np.ndarray, np.ndarray]], value_bins: int = 64, max_steps: int = 400,
                     log10: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a set of scalar series spreads at each step, as a step x value matrix like
    :meth:`MediaStore.histogram_matrix` (the per-layer gradient norms as one distribution over layers).

    Each series' value at a step is its last point at or before that step; the steps are those of the longest
    series, thinned to ``max_steps``. With ``log10`` the values are ``log10`` of the positive ones (others left out).

    Returns:
        ``(steps, value_edges, matrix)``; empty arrays when there is nothing finite to show.
    """
    columns = [(x, y) for x, y in columns if len(x)]
    if not columns:
        return np.zeros(0), np.zeros(0), np.zeros((0, 0))
    steps_all = max((x for x, _ in columns), key=len)
    picks = np.unique(np.linspace(0, len(steps_all) - 1, min(len(steps_all), max_steps)).round().astype(int))
    steps = steps_all[picks]
    values = np.full((len(steps), len(columns)), np.nan)
    for j, (x, y) in enumerate(columns):
        index = np.searchsorted(x, steps, side="right") - 1
        values[:, j] = np.where(index >= 0, y[np.clip(index, 0, len(y) - 1)], np.nan)
    if log10:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
    finite = np.isfinite(values)
    if not finite.any():
        return np.zeros(0), np.zeros(0), np.zeros((0, 0))
    low, high = float(values[finite].min()), float(values[finite].max())
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, value_bins + 1)
    bins = np.clip(((np.where(finite, values, low) - low) / (high - low) * value_bins).astype(np.int64), 0,
                   value_bins - 1)
    flat = (np.arange(len(steps))[:, None] * value_bins + bins)[finite]
    matrix = np.bincount(flat, minlength=len(steps) * value_bins).reshape(len(steps), value_bins).astype(np.float64)
    return steps.astype(np.float64), edges, matrix


class MediaStore:
    """Images, histograms and text of one run.

    Attributes:
        version: bumped on every change; ``image_version`` and ``histogram_version`` only on their kind (each
            view redraws when its counter moved).
        run_dir: the run folder relative image paths are resolved against (set when the run's folder is known).
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget everything (a new run or a reopened one)."""
        self.images: dict[str, list[ImageRecord]] = {}
        self.histograms: dict[str, HistogramSeries] = {}
        self.texts: list[TextRecord] = []
        self.run_dir: str | None = None
        self.version = 0
        self.image_version = 0
        self.histogram_version = 0

    # --- feeding ----------------------------------------------------------------------------------------------
    def add(self, event: dict[str, Any]) -> None:
        """Take one ``image``, ``histogram`` or ``text`` event (other types are ignored)."""
        kind = event.get("type")
        tag = str(event.get("tag") or "")
        step = int(event.get("step") or 0)
        if kind == "image" and event.get("path"):
            record = ImageRecord(step, str(event["path"]), int(event.get("width") or 0), int(event.get("height") or 0))
            records = self.images.setdefault(tag, [])
            if not records or records[-1].step < step:
                records.append(record)  # the usual case: steps rise
            else:
                index = bisect.bisect_left([r.step for r in records], step)
                if index < len(records) and records[index].step == step:
                    records[index] = record  # the same tag and step again: the file was overwritten
                else:
                    records.insert(index, record)
            self.image_version += 1
        elif kind == "histogram":
            counts = event.get("counts") or []
            self.histograms.setdefault(tag, HistogramSeries()).add(
                step, float(event.get("min") or 0.0), float(event.get("max") or 0.0), counts)
            self.histogram_version += 1
        elif kind == "text":
            self.texts.append(TextRecord(tag, step, str(event.get("text") or "")))
        else:
            return
        self.version += 1

    # --- images -----------------------------------------------------------------------------------------------
    def image_tags(self) -> list[str]:
        """Image tags in first-logged order."""
        return list(self.images)

    def image_steps(self, tag: str) -> list[int]:
        """The steps with an image for ``tag``, rising."""
        return [record.step for record in self.images.get(tag, [])]

    def image_at(self, tag: str, step: int | None = None) -> ImageRecord | None:
        """The image at ``step`` or the last one before it (the latest when ``step`` is None)."""
        records = self.images.get(tag) or []
        if not records:
            return None
        if step is None:
            return records[-1]
        index = bisect.bisect_right([r.step for r in records], step) - 1
        return records[max(index, 0)]

    def resolve(self, record: ImageRecord) -> str:
        """The image's file path: relative paths are inside the run folder."""
        if os.path.isabs(record.path) or not self.run_dir:
            return record.path
        return os.path.join(self.run_dir, *record.path.split("/"))

    # --- histograms -------------------------------------------------------------------------------------------
    def histogram_tags(self, pattern: str = "") -> list[str]:
        """Histogram tags containing ``pattern`` (case-insensitive), in first-logged order."""
        needle = pattern.lower()
        return [tag for tag in self.histograms if needle in tag.lower()]

    def histogram_matrix(self, tag: str, value_bins: int = 64,
                         max_steps: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A step x value matrix of counts for a heatmap or ridge plot.

        Every histogram is spread over ``value_bins`` common bins spanning all of the tag's values; more than
        ``max_steps`` histograms are thinned evenly (the newest always kept), so drawing costs the same at
        1,000 or 100,000 steps.

        Returns:
            ``(steps, value_edges, matrix)`` with ``matrix[i]`` the counts at ``steps[i]``.
        """
        series = self.histograms.get(tag)
        if series is None or not len(series):
            return np.zeros(0), np.zeros(0), np.zeros((0, 0))
        total = len(series)
        picks = np.unique(np.linspace(0, total - 1, min(total, max_steps)).round().astype(int))
        lows, highs = series.lows[picks], series.highs[picks]
        low, high = float(lows.min()), float(highs.max())
        if high <= low:
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, value_bins + 1)
        matrix = resample_many(series.counts[picks], lows, highs, edges)
        return series.steps[picks].copy(), edges, matrix

    # --- text -------------------------------------------------------------------------------------------------
    def text_rows(self) -> list[tuple[int, str, str]]:
        """``(step, tag, text)`` for every text, in arrival order."""
        return [(record.step, record.tag, record.text) for record in self.texts]
