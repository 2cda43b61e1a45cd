"""The debiased EMA written as the plain recurrence: what the studio's vectorised smoothing must equal."""

from __future__ import annotations

import numpy as np


def reference_ema(y, w: float) -> np.ndarray:  # noqa: ANN001 - any sequence of numbers
    """Non-finite points pass through unchanged and do not count."""
    last, count, out = 0.0, 0, []
    for value in y:
        if not np.isfinite(value):
            out.append(value)
            continue
        last = w * last + (1 - w) * value
        count += 1
        out.append(last / (1 - w**count))
    return np.array(out)
