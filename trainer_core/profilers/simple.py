"""SimpleProfiler: wall-clock time per action, reported as Lightning 1.5's table.

Cheap enough to leave on: ``start`` stores one clock reading in a dict, ``stop`` adds the difference to a running
count and total per action (constant memory however long the run, unlike keeping every duration).

Examples:
    >>> ticks = iter([0.0, 1.0, 3.0, 4.0])
    >>> profiler = SimpleProfiler(clock=lambda: next(ticks))
    >>> profiler.start("training_step"); profiler.stop("training_step")
    >>> profiler.report_rows()[0]["total_s"]
    2.0
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from trainer_core.profilers.base import Profiler

__all__ = ["SimpleProfiler"]


def _fmt(value: float) -> str:
    return f"{float(value):.5}"


class SimpleProfiler(Profiler):
    """Measure the duration of every action with a monotonic clock.

    The report, titled "{STAGE} Profiler Report", has the columns Action | Mean duration (s) | Num calls |
    Total time (s) | Percentage % (``extended=True``) with a first row "Total" (the profiler's lifetime, 100 %) and
    the actions sorted by percentage, the share of the lifetime spent in them; ``extended=False`` shows
    Action | Mean duration (s) | Total time (s). Nested actions are each counted in full, so shares can sum past 100.

    Args:
        dirpath: Folder for the report file (default: the run folder the trainer passes to :meth:`setup`).
        filename: Write ``{dirpath}/{stage}-{filename}.txt`` instead of printing.
        extended: Show call counts, the Total row and percentages.
        clock: Seconds as a float; ``time.monotonic`` by default (tests inject a fake clock).

    Raises:
        ValueError: From :meth:`start` for an action already running, from :meth:`stop` for one not running.
    """

    def __init__(self, dirpath: str | os.PathLike[str] | None = None, filename: str | None = None,
                 extended: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(dirpath=dirpath, filename=filename)
        self.extended = extended
        self._clock = clock
        self._running: dict[str, float] = {}
        self._stats: dict[str, list[float]] = {}  # action -> [num_calls, total_seconds]
        self._start_time = clock()

    def setup(self, stage: str | None = None, local_rank: int | None = None, log_dir: str | None = None) -> None:
        """Start a fresh report for ``stage`` (its Total row covers the time from here)."""
        super().setup(stage, local_rank, log_dir)
        self._running.clear()
        self._stats.clear()
        self._start_time = self._clock()

    def start(self, action_name: str) -> None:
        if action_name in self._running:
            raise ValueError(
                f"SimpleProfiler: action {action_name!r} was started twice without a stop; call "
                f"stop({action_name!r}) first (or use `with profiler.profile(...)`)."
            )
        self._running[action_name] = self._clock()

    def stop(self, action_name: str) -> None:
        end = self._clock()
        begin = self._running.pop(action_name, None)
        if begin is None:
            raise ValueError(
                f"SimpleProfiler: action {action_name!r} was stopped but never started; call "
                f"start({action_name!r}) first (or use `with profiler.profile(...)`)."
            )
        stats = self._stats.get(action_name)
        if stats is None:
            self._stats[action_name] = [1, end - begin]
        else:
            stats[0] += 1
            stats[1] += end - begin

    @property
    def total_duration(self) -> float:
        """Seconds since construction or the last :meth:`setup` (the Total row)."""
        return self._clock() - self._start_time

    @property
    def stats(self) -> dict[str, tuple[int, float]]:
        """Action -> (number of calls, total seconds), in first-seen order."""
        return {action: (int(calls), total) for action, (calls, total) in self._stats.items()}

    def report_rows(self) -> list[dict[str, Any]]:
        """One row per action, sorted by ``percent`` (share of :attr:`total_duration`) descending."""
        return self._rows(self.total_duration)

    def _rows(self, lifetime: float) -> list[dict[str, Any]]:
        rows = [
            {
                "action": action,
                "mean_s": total / calls,
                "num_calls": int(calls),
                "total_s": float(total),
                "percent": 100.0 * total / lifetime if lifetime > 0 else 0.0,
            }
            for action, (calls, total) in self._stats.items()
        ]
        rows.sort(key=lambda row: row["total_s"], reverse=True)
        return rows

    def summary(self) -> str:
        lifetime = self.total_duration  # read the clock once so the Total row and the percentages agree
        rows = self._rows(lifetime)
        title = self._title()
        if not rows:
            return f"{title}\n\nNo actions were recorded."
        width = max(len("Action"), len("Total"), *(len(row["action"]) for row in rows))
        if self.extended:
            headers = ("Mean duration (s)", "Num calls", "Total time (s)", "Percentage %")
            lines_data = [("Total", "-", str(sum(row["num_calls"] for row in rows)), _fmt(lifetime),
                           "100 %")]
            lines_data += [
                (row["action"], _fmt(row["mean_s"]), str(row["num_calls"]), _fmt(row["total_s"]), _fmt(row["percent"]))
                for row in rows
            ]
        else:
            headers = ("Mean duration (s)", "Total time (s)")
            lines_data = [(row["action"], _fmt(row["mean_s"]), _fmt(row["total_s"])) for row in rows]
        widths = [width] + [max(15, len(header)) for header in headers]

        def line(cells: tuple[str, ...]) -> str:
            return "|  " + "  |  ".join(cell.ljust(w) for cell, w in zip(cells, widths)) + "  |"

        header = line(("Action", *headers))
        rule = "-" * len(header)
        out = [title, "", rule, header, rule]
        if self.extended:
            out += [line(lines_data[0]), rule]
            lines_data = lines_data[1:]
        out += [line(cells) for cells in lines_data]
        out.append(rule)
        return "\n".join(out)
