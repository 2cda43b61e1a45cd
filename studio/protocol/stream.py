"""Reading events defensively: from the child's pipe and from an ``events.jsonl`` file.

The studio shows whatever part of a stream it can read and counts the rest, instead of failing on it: a run killed
mid-write leaves a torn last line, a disk error or another program can leave garbage lines, and a worker bug could
send a message of the wrong shape. An event is well formed when it is a dict whose ``type`` is a string; a columnar
``_metrics_block`` (METRICS_BLOCK) also needs lists for its ``steps``, ``names`` and ``values``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from studio.protocol.events import METRICS_BLOCK

__all__ = ["EventsFile", "read_events_file", "well_formed"]

_BLOCK_LISTS = ("steps", "names", "values")


# Fields the run model and the views compute with, and the types they must have there. A field of another type
# is removed from the event (so the views see it as absent) rather than reaching a comparison or a format string.
_COUNTS = ("epoch", "step", "batch", "num_batches", "max_epochs", "max_steps", "seq", "width", "height")
_NUMBERS = ("time", "score", "min", "max")
_TEXTS = ("stage", "status", "reason", "mode", "log_dir", "run_id", "level", "text", "path", "tag", "exc_type",
          "traceback", "message", "monitor", "kind")
_DICTS = ("metrics", "result", "user_frame")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` without the known fields whose values have the wrong type (a copy only when one is removed)."""
    bad = [key for key in _COUNTS if key in item and item[key] is not None and not (
        _is_number(item[key]) and (isinstance(item[key], int) or item[key] in (float("inf"), float("-inf"))))]
    bad += [key for key in _NUMBERS if key in item and item[key] is not None and not _is_number(item[key])]
    bad += [key for key in _TEXTS if key in item and item[key] is not None and not isinstance(item[key], str)]
    bad += [key for key in _DICTS if key in item and item[key] is not None and not isinstance(item[key], dict)]
    metrics = item.get("metrics")
    if isinstance(metrics, dict) and not all(isinstance(k, str) for k in metrics):
        bad.append("metrics")
    if not bad:
        return item
    return {key: value for key, value in item.items() if key not in bad}


def _event(item: Any) -> dict[str, Any] | None:
    """The event ``item`` holds, cleaned of wrongly typed fields; None when it is not an event at all."""
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        return None
    if item["type"] == METRICS_BLOCK and not all(isinstance(item.get(key), list) for key in _BLOCK_LISTS):
        return None
    return _clean(item)


def well_formed(batch: Any) -> tuple[list[dict[str, Any]], int]:
    """The well-formed events of a received batch, and how many items were dropped (a non-list counts as one)."""
    if not isinstance(batch, list):
        return [], 1
    events = [event for event in map(_event, batch) if event is not None]
    return events, len(batch) - len(events)


@dataclass
class EventsFile:
    """What an ``events.jsonl`` held.

    Attributes:
        events: the readable events, in file order.
        skipped: lines that were not an event (torn, garbage, not JSON, not a dict with a ``type``).
        first_skipped_line: the 1-based number of the first such line (None when none).
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    first_skipped_line: int | None = None

    def skipped_note(self, path: str | os.PathLike[str]) -> str | None:
        """One sentence for the console about what was skipped (None when nothing was)."""
        if not self.skipped:
            return None
        return (f"{self.skipped} unreadable line(s) of {path} skipped (first: line {self.first_skipped_line}); "
                f"{len(self.events)} event(s) shown")


def read_events_file(path: str | os.PathLike[str]) -> EventsFile:
    """Read an ``events.jsonl``, skipping and counting the lines that are not events.

    Bytes that are not UTF-8 only spoil their own line. Lines are read one at a time, so a torn or garbage line
    never stops the lines after it from being read.

    Raises:
        OSError: the file cannot be opened (missing, a folder, no permission).
    """
    out = EventsFile()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                item = json.loads(line)
            except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; "[[[[..." recurses
                item = None
            event = _event(item)
            if event is not None:
                out.events.append(event)
            else:
                out.skipped += 1
                if out.first_skipped_line is None:
                    out.first_skipped_line = number
    return out
