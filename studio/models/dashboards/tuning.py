"""The LR finder curve and the batch-size finder trials, from ``lr_find_point``/``batch_size_trial`` events.

The suggestion follows the engine's rule (steepest descent of the smoothed loss over the point index, after
skipping 10 points at the start and 1 at the end, ignoring non-finite losses); a suggestion the run reports in
``run_finished.result.tune.lr`` wins over the one computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LrCurve", "lr_curve", "suggest_lr", "BatchTrials", "batch_trials"]

DIVERGE_FACTOR = 4.0  # the finder's default early_stop_threshold


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


@dataclass
class LrCurve:
    """The finder's points so far.

    Attributes:
        lr, loss, smoothed: arrays in step order.
        suggestion: suggested lr (None when the curve is too short or the loss never fell).
        reported: True when the suggestion came from the run's final result.
        stop_reason: "running", "finished", "diverged at step N", or the reason the run reported.
    """

    lr: np.ndarray = field(default_factory=lambda: np.empty(0))
    loss: np.ndarray = field(default_factory=lambda: np.empty(0))
    smoothed: np.ndarray = field(default_factory=lambda: np.empty(0))
    suggestion: float | None = None
    reported: bool = False
    stop_reason: str = ""


def suggest_lr(lr: np.ndarray, smoothed: np.ndarray, skip_begin: int = 10, skip_end: int = 1) -> float | None:
    """The lr at the steepest descent of the smoothed loss (None with fewer than 2 usable points)."""
    end = len(smoothed) - skip_end if skip_end > 0 else len(smoothed)
    window = smoothed[skip_begin:end]
    kept = np.flatnonzero(np.isfinite(window))
    if len(kept) < 2:
        return None
    index = int(kept[int(np.argmin(np.gradient(window[kept])))]) + skip_begin
    return float(lr[index])


def lr_curve(points: list[dict[str, Any]], finished: dict[str, Any] | None = None) -> LrCurve:
    """Build the curve from ``lr_find_point`` events and the optional ``run_finished`` event."""
    curve = LrCurve()
    if points:
        ordered = sorted(points, key=lambda p: _num(p.get("step")))
        curve.lr = np.array([_num(p.get("lr")) for p in ordered])
        curve.loss = np.array([_num(p.get("loss")) for p in ordered])
        curve.smoothed = np.array([_num(p.get("smoothed_loss")) for p in ordered])
        curve.suggestion = suggest_lr(curve.lr, curve.smoothed)
    tune = ((finished or {}).get("result") or {}).get("tune") or {}
    if tune.get("lr") is not None:
        curve.suggestion, curve.reported = _num(tune["lr"]), True
    curve.stop_reason = _stop_reason(curve, finished)
    return curve


def suggestion_caution(curve: LrCurve) -> str:
    """A warning when the suggestion sits at the top end of a sweep whose loss never turned up, else "".

    Steepest descent then only says the loss was still falling where the sweep stopped: on the bundled CNN the
    suggestion was 0.83 of a 1e-8..1 sweep, and a Fit with it diverged.
    """
    lr = curve.lr[np.isfinite(curve.lr)]
    if curve.suggestion is None or len(lr) < 12 or curve.stop_reason.startswith(("running", "diverged")):
        return ""
    if curve.suggestion < np.quantile(lr, 0.9):
        return ""
    return (f"Caution: {curve.suggestion:.3g} lies in the last tenth of the sweep and the loss never turned up, so "
            "the best lr may lie beyond it or the suggestion may be too high: check it with a short Fit, or sweep "
            "with a larger max_lr (lr_find_kwargs) and look for the dip before the loss rises.")


def _stop_reason(curve: LrCurve, finished: dict[str, Any] | None) -> str:
    if not len(curve.smoothed):
        return "" if finished is None else "no points recorded"
    for key in ("lr_find_stop_reason", "stop_reason"):
        reason = (((finished or {}).get("result") or {}).get("tune") or {}).get(key)
        if reason:
            return str(reason)
    finite = curve.smoothed[np.isfinite(curve.smoothed)]
    last = curve.smoothed[-1]
    if len(finite) and (not math.isfinite(last) or (len(curve.smoothed) > 2 and last > DIVERGE_FACTOR * finite.min())):
        return f"diverged at step {len(curve.smoothed) - 1} (loss above {DIVERGE_FACTOR:g}x its best)"
    if finished is None:
        return "running"
    return "finished" if finished.get("status") == "finished" else str(finished.get("status") or "ended")


@dataclass
class BatchTrials:
    """The batch-size finder's trials and result.

    Attributes:
        rows: ``(batch_size, fits, peak_memory_bytes_or_None, time_s)`` in trial order.
        result: the batch size the run settled on (reported, else the largest that fitted).
    """

    rows: list[tuple[int, bool, float | None, float | None]] = field(default_factory=list)
    result: int | None = None


def batch_trials(trials: list[dict[str, Any]], finished: dict[str, Any] | None = None) -> BatchTrials:
    """Collect ``batch_size_trial`` events (and the reported result)."""
    out = BatchTrials()
    for trial in trials:
        memory = trial.get("peak_memory")
        seconds = trial.get("time_s")
        out.rows.append((int(_num(trial.get("batch_size"))), bool(trial.get("fits")),
                         None if memory is None else _num(memory), None if seconds is None else _num(seconds)))
    tune = ((finished or {}).get("result") or {}).get("tune") or {}
    if tune.get("batch_size") is not None:
        out.result = int(tune["batch_size"])
    else:
        fitted = [size for size, fits, _, _ in out.rows if fits]
        out.result = max(fitted) if fitted else None
    return out
