"""Gradient-norm series from ``track_grad_norm`` metrics: per-layer names, the total, exploded/vanished steps.

The engine logs ``grad_{p}_norm/{param}`` and ``grad_{p}_norm_total`` (p as a float, ``2.0`` or ``inf``); when they
are logged on step and epoch the names carry ``_step``/``_epoch`` suffixes. The per-step variant is preferred.

Examples:
    >>> names = ["grad_2.0_norm/fc.weight_step", "grad_2.0_norm_total_step", "train_loss"]
    >>> layout = grad_layout(names)
    >>> layout.total, layout.layers
    ('grad_2.0_norm_total_step', {'fc.weight': 'grad_2.0_norm/fc.weight_step'})
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["GradLayout", "grad_layout", "Thresholds", "flag_steps", "clip_value", "clipped_steps", "layer_matrix",
           "LayerBins", "hold_last"]

_LAYER = re.compile(r"^grad_(?P<p>[^/_]+)_norm/(?P<param>.+?)(?P<suffix>_step|_epoch)?$")
_TOTAL = re.compile(r"^grad_(?P<p>[^/_]+)_norm_total(?P<suffix>_step|_epoch)?$")
_RANK = {"_step": 0, "": 1, "_epoch": 2}


@dataclass
class GradLayout:
    """Which stored series hold the grad norms.

    Attributes:
        norm: the p of the norm as logged (``"2.0"``, ``"inf"``), or None without grad-norm metrics.
        total: the series name of the total norm (None when absent).
        layers: parameter name -> series name, in first-logged order.
    """

    norm: str | None = None
    total: str | None = None
    layers: dict[str, str] = field(default_factory=dict)


def grad_layout(names: list[str]) -> GradLayout:
    """Pick, for the total and each parameter, the best series among ``names`` (per-step before plain/epoch)."""
    layout = GradLayout()
    ranks: dict[str, int] = {}
    total_rank = 99
    for name in names:
        match = _TOTAL.match(name)
        if match:
            rank = _RANK[match.group("suffix") or ""]
            if rank < total_rank:
                layout.total, total_rank, layout.norm = name, rank, match.group("p")
            continue
        match = _LAYER.match(name)
        if match:
            param, rank = match.group("param"), _RANK[match.group("suffix") or ""]
            layout.norm = layout.norm or match.group("p")
            if rank < ranks.get(param, 99):
                ranks[param] = rank
                layout.layers[param] = name
    return layout


@dataclass
class Thresholds:
    """A norm above ``exploded`` or below ``vanished`` (and not exactly 0 from a frozen layer) is flagged."""

    exploded: float = 1e3
    vanished: float = 1e-7


def flag_steps(x: np.ndarray, y: np.ndarray, thresholds: Thresholds) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the exploded (above the threshold or not finite) and vanished points of one norm series."""
    finite = np.isfinite(y)
    exploded = np.flatnonzero(~finite | (np.where(finite, y, 0.0) > thresholds.exploded))
    vanished = np.flatnonzero(finite & (y < thresholds.vanished))
    return exploded, vanished


def clip_value(config: dict[str, Any] | None) -> tuple[float | None, str]:
    """``(gradient_clip_val, algorithm)`` from a run's config (``trainer:`` section or flat trainer flags)."""
    config = config or {}
    for section in (config.get("trainer"), config.get("trainer_flags"), config):
        if isinstance(section, dict) and section.get("gradient_clip_val") not in (None, 0, 0.0, "0"):
            try:
                value = float(section["gradient_clip_val"])
            except (TypeError, ValueError):
                continue
            return (value if value > 0 else None), str(section.get("gradient_clip_algorithm") or "norm")
    return None, "norm"


def clipped_steps(x: np.ndarray, total: np.ndarray, clip: float | None, algorithm: str = "norm") -> np.ndarray:
    """Steps at which norm clipping changed the gradients (the pre-clip total norm exceeded ``clip``).

    With value clipping the total norm cannot tell, so nothing is returned for ``algorithm="value"``.
    """
    if clip is None or algorithm != "norm" or not len(total):
        return np.empty(0)
    return x[np.isfinite(total) & (total > clip)]


def layer_matrix(series: list[tuple[np.ndarray, np.ndarray]], columns: int = 200) -> tuple[np.ndarray, float, float]:
    """A (layers x columns) matrix of log10 norms binned over the step range (for the heatmap), with x0, x1.

    Each cell holds the largest norm in its step bin (spikes stay visible); empty bins are NaN. The x arrays are
    sorted (global steps), so each bin is a contiguous slice and one ``fmax.reduceat`` per layer does the work.
    """
    xs = [x for x, _ in series if len(x)]
    if not xs:
        return np.full((len(series), 1), np.nan), 0.0, 1.0
    x0 = float(min(x[0] for x in xs))
    x1 = float(max(x[-1] for x in xs))
    span = max(x1 - x0, 1.0)
    edges = x0 + span * np.arange(columns) / columns
    out = np.full((len(series), columns), np.nan)
    for row, (x, y) in enumerate(series):
        if not len(x):
            continue
        starts = np.searchsorted(x, edges, side="left")
        filled = starts < np.r_[starts[1:], len(x)]
        clean = np.where(np.isfinite(y) & (y > 0), y, np.nan)
        with np.errstate(invalid="ignore"):
            peaks = np.fmax.reduceat(clean, starts[filled])
        with np.errstate(divide="ignore", invalid="ignore"):
            out[row, filled] = np.log10(peaks)
    return out, x0, x0 + span


class LayerBins:
    """Incremental per-layer step bins for the heatmap: each update only reads the points added since the last.

    Bins are ``width`` steps wide from the first step; when a run outgrows ``columns`` bins, neighbouring bins merge
    pairwise (their maxima) and the width doubles, so the whole history always fits and completed bins are never
    recomputed from the raw points.
    """

    def __init__(self, columns: int = 256) -> None:
        self.columns = columns
        self.reset()

    def reset(self) -> None:
        """Forget everything (a series shrank or the layers changed)."""
        self.x0: float | None = None
        self.width = 1.0
        self.maxes: list[np.ndarray] = []
        self.seen: list[int] = []

    def _merge(self) -> None:
        for i, row in enumerate(self.maxes):
            if len(row) % 2:
                row = np.r_[row, np.nan]
            with np.errstate(invalid="ignore"):
                self.maxes[i] = np.fmax(row[0::2], row[1::2])
        self.width *= 2

    def update(self, series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, float, float]:
        """The (layers x bins) log10 matrix for ``series`` (same layers, in the same order, as last time)."""
        if len(series) != len(self.maxes) or any(len(x) < seen for (x, _), seen in zip(series, self.seen)):
            self.reset()
            self.maxes = [np.full(0, np.nan) for _ in series]
            self.seen = [0] * len(series)
        if self.x0 is None:
            starts = [float(x[0]) for x, _ in series if len(x)]
            if not starts:
                return np.full((len(series), 1), np.nan), 0.0, 1.0
            self.x0 = min(starts)
            # Start with one bin per logging interval (log_every_n_steps), so sparse logging leaves no empty bins.
            gaps = [np.diff(x[:64]) for x, _ in series if len(x) > 1]
            positive = [g[g > 0] for g in gaps]
            self.width = max(1.0, min((float(g.min()) for g in positive if len(g)), default=1.0))
        for i, (x, y) in enumerate(series):
            new_x, new_y = x[self.seen[i]:], y[self.seen[i]:]
            self.seen[i] = len(x)
            if not len(new_x):
                continue
            while (float(new_x[-1]) - self.x0) / self.width >= self.columns:
                self._merge()
            index = ((new_x - self.x0) / self.width).astype(np.int64)
            needed = int(index[-1]) + 1
            row = self.maxes[i]
            if len(row) < needed:
                row = self.maxes[i] = np.r_[row, np.full(needed - len(row), np.nan)]
            clean = np.where(np.isfinite(new_y) & (new_y > 0), new_y, np.nan)
            np.fmax.at(row, index, clean)
        bins = max((len(row) for row in self.maxes), default=1) or 1
        out = np.full((len(series), bins), np.nan)
        for i, row in enumerate(self.maxes):
            with np.errstate(divide="ignore", invalid="ignore"):
                out[i, : len(row)] = np.log10(row)
        return hold_last(out), self.x0, self.x0 + bins * self.width


def hold_last(matrix: np.ndarray) -> np.ndarray:
    """Fill each row's empty (NaN) cells with the row's previous finite value (leading gaps stay NaN)."""
    finite = np.isfinite(matrix)
    index = np.where(finite, np.arange(matrix.shape[1])[None, :], 0)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = np.take_along_axis(matrix, index, axis=1)
    started = np.maximum.accumulate(finite, axis=1)
    return np.where(started, filled, np.nan)
