"""AdvancedProfiler: a ``cProfile`` profile per action, reported with ``pstats``.

Only one ``cProfile`` profiler can be active in a thread (and Python 3.12+ refuses a second one outright), so nested
actions are handled with a stack: starting an inner action pauses the outer action's profile, stopping it resumes
the outer one. Each action's function statistics therefore exclude the actions nested in it, while its wall-clock
total (the report rows) includes them, as in :class:`~trainer_core.profilers.SimpleProfiler`.

Examples:
    >>> profiler = AdvancedProfiler()
    >>> with profiler.profile("work"):
    ...     _ = sum(range(1000))
    >>> profiler.report_rows()[0]["action"]
    'work'
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import time
from collections.abc import Callable
from typing import Any

from trainer_core.profilers.base import Profiler

__all__ = ["AdvancedProfiler"]


class AdvancedProfiler(Profiler):
    """Profile every function called inside each action with ``cProfile``.

    Args:
        dirpath: Folder for the report file (default: the run folder the trainer passes to :meth:`setup`).
        filename: Write ``{dirpath}/{stage}-{filename}.txt`` instead of printing.
        line_count_restriction: How many lines of stats per action: a fraction (0..1] of them, or a count (> 1).
        clock: Seconds as a float for the rows' wall-clock totals (``time.monotonic`` by default).

    Raises:
        ValueError: From :meth:`start` for an action already running, from :meth:`stop` for one not running.
    """

    def __init__(self, dirpath: str | os.PathLike[str] | None = None, filename: str | None = None,
                 line_count_restriction: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(dirpath=dirpath, filename=filename)
        if line_count_restriction <= 0:
            raise ValueError(
                f"AdvancedProfiler(line_count_restriction={line_count_restriction!r}) must be a fraction in (0, 1] "
                "or a line count > 1."
            )
        self.line_count_restriction = line_count_restriction
        self._clock = clock
        self._profiles: dict[str, cProfile.Profile] = {}
        self._stats: dict[str, list[float]] = {}  # action -> [num_calls, total_seconds]
        self._stack: list[tuple[str, float]] = []  # running actions, innermost last
        self._start_time = clock()

    def setup(self, stage: str | None = None, local_rank: int | None = None, log_dir: str | None = None) -> None:
        """Start a fresh report for ``stage``."""
        super().setup(stage, local_rank, log_dir)
        self._profiles.clear()
        self._stats.clear()
        self._stack.clear()
        self._start_time = self._clock()

    def start(self, action_name: str) -> None:
        if any(name == action_name for name, _ in self._stack):
            raise ValueError(f"AdvancedProfiler: action {action_name!r} was started twice without a stop.")
        if self._stack:
            self._profiles[self._stack[-1][0]].disable()
        profile = self._profiles.get(action_name)
        if profile is None:
            profile = self._profiles[action_name] = cProfile.Profile()
        self._stack.append((action_name, self._clock()))
        profile.enable()

    def stop(self, action_name: str) -> None:
        end = self._clock()
        index = next((i for i in range(len(self._stack) - 1, -1, -1) if self._stack[i][0] == action_name), None)
        if index is None:
            raise ValueError(
                f"AdvancedProfiler: action {action_name!r} was stopped but never started; call "
                f"start({action_name!r}) first (or use `with profiler.profile(...)`)."
            )
        innermost = index == len(self._stack) - 1
        if innermost:
            self._profiles[action_name].disable()
        _, begin = self._stack.pop(index)
        stats = self._stats.setdefault(action_name, [0, 0.0])
        stats[0] += 1
        stats[1] += end - begin
        if innermost and self._stack:
            self._profiles[self._stack[-1][0]].enable()

    def report_rows(self) -> list[dict[str, Any]]:
        """One row per action (wall-clock totals), sorted by total time descending."""
        lifetime = self._clock() - self._start_time
        rows = [
            {
                "action": action,
                "mean_s": total / calls,
                "num_calls": int(calls),
                "total_s": total,
                "percent": 100.0 * total / lifetime if lifetime > 0 else 0.0,
            }
            for action, (calls, total) in self._stats.items()
        ]
        rows.sort(key=lambda row: row["total_s"], reverse=True)
        return rows

    def action_stats(self, action_name: str) -> str:
        """The ``pstats`` text for one action (sorted by cumulative time, directories stripped)."""
        stream = io.StringIO()
        try:
            stats = pstats.Stats(self._profiles[action_name], stream=stream)
        except TypeError:  # the profile holds no calls (everything ran in nested actions)
            return "(no function calls outside nested actions)\n"
        restriction: float | int = self.line_count_restriction
        if restriction > 1:
            restriction = int(restriction)
        stats.strip_dirs().sort_stats("cumulative").print_stats(restriction)
        return stream.getvalue()

    def summary(self) -> str:
        parts = [self._title()]
        for row in self.report_rows():
            action = row["action"]
            parts.append(f"Profile stats for: {action}\n{self.action_stats(action)}")
        if len(parts) == 1:
            parts.append("No actions were recorded.")
        return "\n\n".join(parts)

    def teardown(self, stage: str | None = None) -> None:
        """Stop any profile still running (a stage that ended with an exception inside an action)."""
        for name, _ in self._stack:
            self._profiles[name].disable()
        self._stack.clear()
