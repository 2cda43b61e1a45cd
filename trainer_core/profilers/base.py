"""Profiler base class and the no-op profiler.

The trainer wraps named regions ("actions": hooks, ``training_step``, ``backward``, ...) in
``profiler.profile(action)``, calls :meth:`Profiler.setup` when a stage starts and :meth:`Profiler.describe` when it
ends. A profiler reports both as text (:meth:`Profiler.summary`) and as rows for tables
(:meth:`Profiler.report_rows`, keys ``action``, ``mean_s``, ``num_calls``, ``total_s``, ``percent``).

Examples:
    >>> profiler = PassThroughProfiler()
    >>> with profiler.profile("training_step"):
    ...     pass
    >>> profiler.report_rows()
    []
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

__all__ = ["Profiler", "PassThroughProfiler", "BaseProfiler"]


class _Region(AbstractContextManager):  # type: ignore[type-arg]
    __slots__ = ("_profiler", "_action")

    def __init__(self, profiler: Profiler, action: str) -> None:
        self._profiler = profiler
        self._action = action

    def __enter__(self) -> str:
        self._profiler.start(self._action)
        return self._action

    def __exit__(self, *exc_info: object) -> None:
        self._profiler.stop(self._action)


class Profiler:
    """Base class: subclasses implement :meth:`start`, :meth:`stop`, :meth:`summary` and :meth:`report_rows`.

    Args:
        dirpath: Folder for the report file; defaults to the ``log_dir`` given to :meth:`setup` (the run folder).
        filename: Report file name without extension. When set, :meth:`describe` writes
            ``{dirpath}/{stage}-{filename}.txt`` (``-{rank}`` appended on ranks other than 0) instead of printing.
    """

    is_passthrough = False
    """True only for the no-op profiler, so the trainer can skip wrapping regions altogether."""

    def __init__(self, dirpath: str | os.PathLike[str] | None = None, filename: str | None = None) -> None:
        self.dirpath = os.fspath(dirpath) if dirpath is not None else None
        self.filename = filename
        self._stage: str | None = None
        self._local_rank: int | None = None
        self._log_dir: str | None = None

    # --- recording ------------------------------------------------------------------------------------------
    def start(self, action_name: str) -> None:
        """Begin timing ``action_name``."""
        raise NotImplementedError

    def stop(self, action_name: str) -> None:
        """End timing ``action_name``."""
        raise NotImplementedError

    def profile(self, action_name: str) -> AbstractContextManager[str]:
        """Time the body of a ``with`` block as ``action_name`` (stopped even when the body raises)."""
        # A slotted object instead of @contextmanager: about half the cost per region on the hot path.
        return _Region(self, action_name)

    def profile_iterable(self, iterable: Any, action_name: str) -> Iterator[Any]:
        """Yield from ``iterable``, timing each ``next()`` as ``action_name`` (dataloader fetches)."""
        iterator = iter(iterable)
        while True:
            self.start(action_name)
            try:
                value = next(iterator)
            except StopIteration:
                self.stop(action_name)
                return
            self.stop(action_name)
            yield value

    # --- life cycle -----------------------------------------------------------------------------------------
    def setup(self, stage: str | None = None, local_rank: int | None = None, log_dir: str | None = None) -> None:
        """Called by the trainer when a stage starts; remembers where and under which name to report."""
        self._stage = stage
        self._local_rank = local_rank
        self._log_dir = log_dir

    def teardown(self, stage: str | None = None) -> None:
        """Called by the trainer when a stage is over (after :meth:`describe`)."""

    # --- reporting ------------------------------------------------------------------------------------------
    def summary(self) -> str:
        """The report as text."""
        raise NotImplementedError

    def report_rows(self) -> list[dict[str, Any]]:
        """The report as rows: dicts with ``action``, ``mean_s``, ``num_calls``, ``total_s``, ``percent``."""
        raise NotImplementedError

    def report_path(self) -> str | None:
        """Where :meth:`describe` writes the report, or None when it prints (no ``filename``)."""
        if not self.filename:
            return None
        folder = self.dirpath or self._log_dir or os.getcwd()
        name = f"{self._stage}-{self.filename}" if self._stage else self.filename
        if self._local_rank:  # rank 0 keeps the plain name, so single-process runs match the documented file
            name += f"-{self._local_rank}"
        return os.path.join(folder, f"{name}.txt")

    def describe(self) -> None:
        """Write the report to :meth:`report_path`, or print it when no ``filename`` is set."""
        text = self.summary()
        if not text:
            return
        path = self.report_path()
        if path is None:
            print(text)
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.write("\n")

    def _title(self) -> str:
        return f"{self._stage.upper()} Profiler Report" if self._stage else "Profiler Report"


_NULL_CONTEXT: AbstractContextManager[Any] = nullcontext()

# Lightning 1.x spelling, kept so user code subclassing it keeps working.
BaseProfiler = Profiler


class PassThroughProfiler(Profiler):
    """The default: records nothing and reports nothing, at the cost of one method call per region."""

    is_passthrough = True

    def start(self, action_name: str) -> None:
        pass

    def stop(self, action_name: str) -> None:
        pass

    def profile(self, action_name: str) -> AbstractContextManager[Any]:  # type: ignore[override]
        # One shared, reusable null context: no generator object per region on the hot path.
        return _NULL_CONTEXT

    def summary(self) -> str:
        return ""

    def report_rows(self) -> list[dict[str, Any]]:
        return []
