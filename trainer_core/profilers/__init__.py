"""Profilers: time the trainer's named regions and report them as text and as table rows.

``Trainer(profiler="simple" | "advanced" | "pytorch")`` or a profiler object. Every profiler has
``summary() -> str`` and ``report_rows() -> list[dict]`` (keys ``action``, ``mean_s``, ``num_calls``, ``total_s``,
``percent``) and writes ``{dirpath}/{stage}-{filename}.txt`` when ``filename`` is set.

Examples:
    >>> profiler = profiler_from_flag("simple")
    >>> type(profiler).__name__
    'SimpleProfiler'
"""

from __future__ import annotations

from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.profilers.advanced import AdvancedProfiler
from trainer_core.profilers.base import BaseProfiler, PassThroughProfiler, Profiler
from trainer_core.profilers.pytorch import PyTorchProfiler
from trainer_core.profilers.simple import SimpleProfiler

__all__ = [
    "AdvancedProfiler",
    "BaseProfiler",
    "PassThroughProfiler",
    "Profiler",
    "PyTorchProfiler",
    "SimpleProfiler",
    "profiler_from_flag",
]

_BY_NAME: dict[str, type[Profiler]] = {
    "simple": SimpleProfiler,
    "advanced": AdvancedProfiler,
    "pytorch": PyTorchProfiler,
}


def profiler_from_flag(value: Any) -> Profiler:
    """The profiler for a Trainer ``profiler`` flag value: None -> PassThroughProfiler, a name -> a new one.

    Args:
        value: None, "simple", "advanced", "pytorch" (any case) or a Profiler instance (returned as is).

    Raises:
        MisconfigurationError: For any other value.
    """
    if value is None:
        return PassThroughProfiler()
    if isinstance(value, Profiler):
        return value
    if isinstance(value, str) and value.lower() in _BY_NAME:
        return _BY_NAME[value.lower()]()
    raise MisconfigurationError(
        f"Trainer(profiler={value!r}) is not supported; use one of {', '.join(map(repr, _BY_NAME))}, "
        "a Profiler instance or None."
    )
