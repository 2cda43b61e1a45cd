"""Event types of the telemetry stream (plain data, no torch).

Every event is a JSON-safe dict with the common keys ``type``, ``run_id``, ``seq`` (0, 1, 2, ... per recorder) and
``time`` (seconds since the epoch), plus the fields listed for its type in :data:`EVENT_FIELDS`. docs/events.md
describes each one. The studio keeps its own copy of the type names (it never imports trainer_core); a test checks
the two agree.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "RUN_STARTED",
    "STAGE_STARTED",
    "STAGE_FINISHED",
    "EPOCH_STARTED",
    "EPOCH_FINISHED",
    "PROGRESS",
    "METRICS",
    "MODEL_SUMMARY",
    "LR_FIND_POINT",
    "BATCH_SIZE_TRIAL",
    "PROFILER_REPORT",
    "CHECKPOINT_SAVED",
    "LOG",
    "EXCEPTION",
    "RUN_FINISHED",
    "IMAGE",
    "HISTOGRAM",
    "TEXT",
    "EVENT_FIELDS",
    "EVENT_TYPES",
    "NEVER_DROPPED",
    "to_float",
    "json_safe",
]

RUN_STARTED = "run_started"
STAGE_STARTED = "stage_started"
STAGE_FINISHED = "stage_finished"
EPOCH_STARTED = "epoch_started"
EPOCH_FINISHED = "epoch_finished"
PROGRESS = "progress"
METRICS = "metrics"
MODEL_SUMMARY = "model_summary"
LR_FIND_POINT = "lr_find_point"
BATCH_SIZE_TRIAL = "batch_size_trial"
PROFILER_REPORT = "profiler_report"
CHECKPOINT_SAVED = "checkpoint_saved"
LOG = "log"
EXCEPTION = "exception"
RUN_FINISHED = "run_finished"
IMAGE = "image"
HISTOGRAM = "histogram"
TEXT = "text"

# Type-specific fields (besides type/run_id/seq/time). Optional fields are documented in docs/events.md.
EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    RUN_STARTED: ("mode", "log_dir", "pid", "config"),
    STAGE_STARTED: ("stage", "max_epochs", "max_steps", "num_batches"),
    STAGE_FINISHED: ("stage", "status", "metrics"),
    EPOCH_STARTED: ("stage", "epoch", "step"),
    EPOCH_FINISHED: ("stage", "epoch", "step", "metrics"),
    PROGRESS: ("stage", "epoch", "step", "batch", "num_batches", "metrics"),
    METRICS: ("step", "epoch", "metrics"),
    MODEL_SUMMARY: ("total_params", "trainable_params", "layers"),
    LR_FIND_POINT: ("step", "lr", "loss", "smoothed_loss"),
    BATCH_SIZE_TRIAL: ("batch_size", "fits", "peak_memory", "time_s"),
    PROFILER_REPORT: ("stage", "rows"),
    CHECKPOINT_SAVED: ("path", "kind", "epoch", "step"),
    LOG: ("level", "stream", "text"),
    EXCEPTION: ("exc_type", "message", "traceback", "user_frame"),
    RUN_FINISHED: ("status", "reason", "metrics", "result"),
    IMAGE: ("tag", "step", "path", "width", "height", "source"),
    HISTOGRAM: ("tag", "step", "min", "max", "num", "sum", "sum_squares", "counts"),
    TEXT: ("tag", "step", "text"),
}

EVENT_TYPES: tuple[str, ...] = tuple(EVENT_FIELDS)

# Events a consumer that falls behind may coalesce are PROGRESS only; everything else is always delivered.
NEVER_DROPPED: frozenset[str] = frozenset(t for t in EVENT_TYPES if t != PROGRESS)


def to_float(value: Any) -> float | None:
    """A metric value as a plain float (tensors, numpy scalars, ints), or None when it is not a number."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    item = getattr(value, "item", None)
    if callable(item):
        try:
            numel = getattr(value, "numel", None)
            if callable(numel) and numel() != 1:
                return None
            result = item()
        except (RuntimeError, ValueError, TypeError):
            return None
        return float(result) if isinstance(result, (int, float, bool)) else None
    return None


def json_safe(value: Any, depth: int = 0) -> Any:
    """Turn ``value`` into something ``json.dumps`` accepts (NaN and inf become strings; objects become repr)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth > 6:
        return repr(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v, depth + 1) for v in value]
    number = to_float(value)
    if number is not None:
        return json_safe(number, depth)
    text = repr(value)
    return text if len(text) <= 500 else text[:497] + "..."
