"""Reading events defensively: from the child's pipe and from an ``events.jsonl`` file.

The studio shows whatever part of a stream it can read and counts the rest, instead of failing on it: a run killed
mid-write leaves a torn last line, a disk error or another program can leave garbage lines, and a worker bug could
send a message of the wrong shape. An event is well formed when it is a dict whose ``type`` is a string; a columnar
``_metrics_block`` (METRICS_BLOCK) also needs lists for its ``steps``, ``names`` and ``values``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from studio.protocol.events import METRICS_BLOCK
from studio.protocol.thinning import DEFAULT_MAX_LINES, DEFAULT_MAX_MEDIA, DEFAULT_MAX_POINTS, Thinner

__all__ = ["EventsFile", "read_events_file", "well_formed", "MAX_LINE_BYTES"]

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
    return _clean(item) if _is_event(item) else None


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
        events: the readable events kept, in file order (a long run's streams are thinned: see ``thinned``).
        skipped: lines that were not an event (torn, garbage, not JSON, not a dict with a ``type``, or longer than
            ``MAX_LINE_BYTES``).
        first_skipped_line: the 1-based number of the first such line (None when none).
        thinned: readable events left out to keep the run's memory bounded, by event type (see
            ``studio.protocol.thinning``: every stream keeps its first and newest events and an even spread between).
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0
    first_skipped_line: int | None = None
    thinned: dict[str, int] = field(default_factory=dict)

    def skipped_note(self, path: str | os.PathLike[str]) -> str | None:
        """One sentence for the console about what was skipped or thinned (None when everything is shown)."""
        parts = []
        if self.skipped:
            parts.append(f"{self.skipped} unreadable line(s) of {path} skipped (first: line "
                         f"{self.first_skipped_line})")
        if self.thinned:
            kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(self.thinned.items()))
            parts.append(f"{sum(self.thinned.values()):,} event(s) of {path} left out to keep memory bounded "
                         f"({kinds}; every series keeps its first and newest points and an even spread between)")
        if not parts:
            return None
        return "; ".join(parts) + f"; {len(self.events)} event(s) shown"


MAX_LINE_BYTES = 64 * 2**20
"""A longer line is skipped without being held in memory (an event is a few hundred bytes; a histogram a few KB)."""
_CHUNK_BYTES = 2**20


def _lines(handle: BinaryIO) -> Iterator[str | None]:
    """The file's lines read in chunks; None for a line longer than ``MAX_LINE_BYTES``.

    Whole lines are decoded a chunk at a time (a chunk ends at its last newline, so no character is cut), bytes
    that are not UTF-8 becoming U+FFFD: they only spoil the line they are in.
    """
    rest = b""
    oversized = False  # inside a line already too long: its bytes are dropped until its newline
    while True:
        chunk = handle.read(_CHUNK_BYTES)
        if not chunk:
            break
        end = chunk.rfind(b"\n")
        if end < 0:
            rest += chunk
            if len(rest) > MAX_LINE_BYTES:
                rest, oversized = b"", True
            continue
        lines: list[str | None] = list((rest + chunk[:end]).decode("utf-8", errors="replace").split("\n"))
        rest = chunk[end + 1:]
        if oversized:  # the first line is the end of the one too long
            oversized = False
            lines[0] = None
        yield from lines
    if oversized:
        yield None
    elif rest:
        yield rest.decode("utf-8", errors="replace")


_BLANK = object()


def _parse_stripped(line: str) -> Any:
    """A line plain ``json.loads`` refused: ``_BLANK`` when it is blank, the value once stripped of whitespace JSON
    does not allow (a form feed, U+2028...), else None."""
    stripped = line.strip()
    if not stripped:
        return _BLANK
    if stripped == line:
        return None
    try:
        return json.loads(stripped)
    except (ValueError, RecursionError):
        return None


def _is_event(item: Any) -> bool:
    """A dict with a string ``type`` (a columnar block also needs its lists): what the thinner may look at."""
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        return False
    return item["type"] != METRICS_BLOCK or all(isinstance(item.get(key), list) for key in _BLOCK_LISTS)


def read_events_file(path: str | os.PathLike[str], *, max_points: int = DEFAULT_MAX_POINTS,
                     max_media: int = DEFAULT_MAX_MEDIA, max_lines: int = DEFAULT_MAX_LINES) -> EventsFile:
    """Read an ``events.jsonl``, skipping and counting the lines that are not events, in bounded memory.

    The file is read in 1 MB chunks and each line parsed on its own, so a torn or garbage line never stops the
    lines after it from being read, and bytes that are not UTF-8 only spoil their own line. Long streams are
    thinned as they are read (``studio.protocol.thinning``): memory stays bounded however big the file is, and
    the newest event of every series is kept.

    Args:
        path: the file.
        max_points: events kept per metrics/progress stream (same metric names, same stage).
        max_media: events kept per image or histogram tag.
        max_lines: newest log and text events kept.

    Raises:
        OSError: the file cannot be opened (missing, a folder, no permission).
    """
    out = EventsFile()
    thinner = Thinner(max_points=max_points, max_media=max_media, max_lines=max_lines)
    add, loads = thinner.add, json.loads  # locals: this loop runs once per line of files with millions of lines
    with open(path, "rb") as handle:
        for number, line in enumerate(_lines(handle), start=1):
            if line is not None:
                try:
                    item = loads(line)  # JSON allows the whitespace around a value, so lines are not stripped
                except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; "[[[[..." recurses
                    item = _parse_stripped(line)
                    if item is _BLANK:
                        continue  # blank lines are not counted
                if _is_event(item):
                    add(item)
                    continue
            out.skipped += 1
            if out.first_skipped_line is None:
                out.first_skipped_line = number
    # Wrongly typed fields are removed from the kept events only: most events of a long run are thinned out.
    out.events = [_clean(event) for event in thinner.events()]
    out.thinned = dict(thinner.left_out)
    return out
