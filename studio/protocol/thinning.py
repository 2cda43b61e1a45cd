"""Keeping a bounded, evenly spread part of a long event stream, in file order, while it is read.

A reopened run's ``events.jsonl`` can be gigabytes (a long run logging every step); the studio draws a few
thousand points per chart, so holding every event would only cost memory and time. Events are grouped into
*streams* (metrics events with the same metric names, progress samples of one stage, media of one tag, log lines);
each stream keeps at most a fixed number of events:

- series-like streams (metrics, progress, histograms, images) keep every ``stride``-th event, the stride doubling
  whenever the stream would pass its limit, and always their first two and their newest event (the first two decide
  whether a series is drawn per step or per epoch; the newest is where the run ended);
- log and text lines keep the newest ones, as the console does;
- events that happen a handful of times per run (run and stage start and end, exceptions, checkpoints, summaries)
  are all kept.

What was left out is counted per event type, so the studio can say so.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Any

from studio.protocol import events as ev

__all__ = ["Thinner", "stream_key", "DEFAULT_MAX_POINTS", "DEFAULT_MAX_MEDIA", "DEFAULT_MAX_LINES"]

DEFAULT_MAX_POINTS = 20_000
"""Events kept per metrics or progress stream (a chart is a few thousand pixels wide)."""
DEFAULT_MAX_MEDIA = 2_000
"""Events kept per image or histogram tag (a histogram event carries its bin counts)."""
DEFAULT_MAX_LINES = 20_000
"""Newest log and text events kept (the console's length)."""

_SERIES_TYPES = frozenset({ev.METRICS, ev.METRICS_BLOCK, ev.PROGRESS, ev.EPOCH_STARTED, ev.EPOCH_FINISHED,
                           ev.LR_FIND_POINT, ev.BATCH_SIZE_TRIAL, "system_sample"})
_MEDIA_TYPES = frozenset({ev.IMAGE, ev.HISTOGRAM})
_LINE_TYPES = frozenset({ev.LOG, ev.TEXT})


def stream_key(event: dict[str, Any]) -> Hashable | None:
    """The stream ``event`` belongs to, or None for an event that is always kept."""
    kind = event["type"]
    if kind == ev.METRICS:
        metrics = event.get("metrics")
        return kind, frozenset(metrics) if isinstance(metrics, dict) else None
    if kind == ev.METRICS_BLOCK:
        return kind, tuple(str(name) for name in event.get("names") or ())
    if kind == ev.PROGRESS:
        stage = event.get("stage")
        return kind, stage if isinstance(stage, str) else None
    if kind in _MEDIA_TYPES:
        return kind, str(event.get("tag"))
    if kind in _LINE_TYPES:
        return kind
    if kind in _SERIES_TYPES or kind not in ev.EVENT_TYPES:
        return kind  # per-epoch events, tuner points, system samples and types this studio does not know
    return None


class _Strided:
    """One series-like stream: the ordinals of its kept events, and its newest event when the stride skips it."""

    __slots__ = ("limit", "stride", "count", "kept", "pending")

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 4)
        self.stride = 1
        self.count = 0
        self.kept: list[tuple[int, int]] = []  # (index in the stream, ordinal in the file), oldest first
        self.pending: tuple[int, dict[str, Any]] | None = None  # (ordinal, event): kept while it is the newest


class Thinner:
    """Collects events in order, keeping a bounded part of each stream (see the module's description).

    Args:
        max_points: events kept per metrics/progress/per-epoch stream.
        max_media: events kept per image or histogram tag.
        max_lines: newest log/text events kept.
    """

    def __init__(self, *, max_points: int = DEFAULT_MAX_POINTS, max_media: int = DEFAULT_MAX_MEDIA,
                 max_lines: int = DEFAULT_MAX_LINES) -> None:
        self.max_points, self.max_media, self.max_lines = max_points, max_media, max_lines
        self._count = 0
        self._kept: dict[int, dict[str, Any]] = {}  # ordinal in the file -> event; dropping one leaves no hole
        self._strided: dict[Hashable, _Strided] = {}
        self._lines: deque[int] = deque()
        self.left_out: dict[str, int] = {}
        """Events not kept, by event type."""

    def add(self, event: dict[str, Any]) -> None:
        """Take the next event of the file (a dict whose ``type`` is a string)."""
        ordinal = self._count
        self._count += 1
        key = stream_key(event)
        if key is None:
            self._kept[ordinal] = event
            return
        kind = event["type"]
        if kind in _LINE_TYPES:
            self._kept[ordinal] = event
            self._lines.append(ordinal)
            if len(self._lines) > self.max_lines:
                self._drop(self._lines.popleft())
            return
        stream = self._strided.get(key)
        if stream is None:
            stream = self._strided[key] = _Strided(self.max_media if kind in _MEDIA_TYPES else self.max_points)
        if stream.pending is not None:  # the previous newest was only kept for being the newest
            self._count_out(stream.pending[1])
            stream.pending = None
        index = stream.count
        stream.count += 1
        if index < 2 or index % stream.stride == 0:
            self._kept[ordinal] = event
            stream.kept.append((index, ordinal))
            if len(stream.kept) > stream.limit:
                self._halve(stream)
        else:
            stream.pending = (ordinal, event)

    def events(self) -> list[dict[str, Any]]:
        """The kept events, in file order."""
        kept = dict(self._kept)
        for stream in self._strided.values():
            if stream.pending is not None:
                kept[stream.pending[0]] = stream.pending[1]
        return [kept[ordinal] for ordinal in sorted(kept)]

    @property
    def thinned(self) -> int:
        """How many events were left out."""
        return sum(self.left_out.values())

    def _count_out(self, event: dict[str, Any]) -> None:
        self.left_out[event["type"]] = self.left_out.get(event["type"], 0) + 1

    def _drop(self, ordinal: int) -> None:
        self._count_out(self._kept.pop(ordinal))

    def _halve(self, stream: _Strided) -> None:
        """Double the stride: drop the kept events the new stride skips (never the first two, nor the newest)."""
        stream.stride *= 2
        newest = stream.kept[-1]
        keep: list[tuple[int, int]] = []
        for index, ordinal in stream.kept:
            if index < 2 or index % stream.stride == 0:
                keep.append((index, ordinal))
            elif (index, ordinal) == newest:
                stream.pending = (ordinal, self._kept.pop(ordinal))
            else:
                self._drop(ordinal)
        stream.kept = keep
