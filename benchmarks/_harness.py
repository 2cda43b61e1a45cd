"""Timing harness shared by the benchmark modules: seeding, repeated timing, rows and host-sync counting.

The rules every benchmark follows: the first (warm-up) run is discarded, the figure is the median of several
repeats, the plain-PyTorch baseline is measured in the same process right beside the measured code, and both
sides start from the same seed.
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import statistics
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from benchmarks import CLOCK_ENV, GPU_ONLY_ENV

__all__ = [
    "GPU_ONLY_ENV",
    "HostSyncCounter",
    "clock",
    "Measurement",
    "cpu_rows_wanted",
    "cuda_available",
    "make_row",
    "measure",
    "quiet",
    "seed_all",
    "skipped_row",
    "synchronize",
]


def seed_all(seed: int) -> None:
    """Seeds python, numpy and torch (every device) the same way for the baseline and the measured code."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cpu_rows_wanted() -> bool:
    """False when the runner was asked for the CUDA benchmarks only."""
    return os.environ.get(GPU_ONLY_ENV, "") != "1"


def cuda_available() -> bool:
    """Whether a CUDA device can be used (False on CPU builds of torch)."""
    return torch.cuda.is_available()


def clock(device: torch.device | str = "cpu") -> float:
    """A reading in seconds for timing work on `device`.

    CPU work is timed with this process's CPU time (all its threads, user + system): on a shared machine other
    processes then cannot inflate a figure, and the plain loop and the trainer are charged only for their own work.
    `--clock wall` switches to wall time. CUDA work is always timed on the wall clock (after a synchronise), since
    the host waits for the GPU without using CPU time.
    """
    if torch.device(device).type == "cuda" or os.environ.get(CLOCK_ENV) == "wall":
        return time.perf_counter()
    return time.process_time()


def synchronize(device: torch.device | str) -> None:
    """Waits for queued kernels so that a wall-clock reading covers the work (a no-op on CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


@dataclass
class Measurement:
    """Times of the repeats (warm-up excluded) and the value returned by the last one."""

    times: list[float]
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def spread(self) -> float:
        """Relative spread (max - min) / median: a quick noise indicator printed in notes."""
        return (max(self.times) - min(self.times)) / self.median if self.median > 0 else 0.0


def measure(fn: Callable[[int], Any], *, repeats: int, warmup: int = 1, device: str = "cpu") -> Measurement:
    """Calls `fn(i)` `warmup + repeats` times and keeps the wall time of the last `repeats` calls.

    Args:
        fn: The code to time; receives the repeat index (use it as the seed so each repeat is reproducible).
        repeats: Number of timed calls.
        warmup: Untimed calls first (caches, allocator, lazy imports).
        device: Synchronised before reading the clock when it is a CUDA device.
    """
    result = None
    for i in range(warmup):
        fn(i)
    times = []
    for i in range(repeats):
        synchronize(device)
        start = clock(device)
        result = fn(warmup + i)
        synchronize(device)
        times.append(clock(device) - start)
    return Measurement(times, result)


def make_row(name: str, ours: float, baseline: float, unit: str, note: str = "") -> dict:
    """A result row of the runner's table; `ratio` is ours / baseline (NaN when either side is missing)."""
    if baseline and not math.isnan(baseline) and not math.isnan(ours):
        ratio = ours / baseline
    elif baseline == 0 and ours == 0:
        ratio = 1.0
    else:
        ratio = math.nan
    return {"name": name, "ours": float(ours), "baseline": float(baseline), "unit": unit, "ratio": ratio, "note": note}


def skipped_row(name: str, unit: str, why: str) -> dict:
    """A row that records a benchmark which could not run here (no CUDA, engine not importable, ...)."""
    return make_row(name, math.nan, math.nan, unit, f"skipped: {why}")


@contextlib.contextmanager
def quiet(*, silence_warnings: bool = True) -> Iterator[None]:
    """Sends stdout/stderr (progress bars, summaries, framework banners) to /dev/null while timing.

    File descriptors are redirected too, so C-level writes do not reach the table either; the cost of formatting the
    output is still paid, which is what a user with a progress bar pays.
    """
    import logging
    import warnings

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    old_streams = sys.stdout, sys.stderr
    root_level = logging.root.manager.disable
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        with open(os.devnull, "w") as sink, warnings.catch_warnings():
            if silence_warnings:  # False where warnings are the measurement (CUDA sync counting)
                warnings.simplefilter("ignore")
            sys.stdout = sys.stderr = sink
            logging.disable(logging.WARNING)
            yield
    finally:
        logging.disable(root_level)
        sys.stdout, sys.stderr = old_streams
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


# Tensor methods that move a value to the host. On CUDA each one synchronises; on CPU they are still the places that
# would synchronise, so counting them on CPU shows what a GPU run would pay.
_HOST_METHODS = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__")


@dataclass
class HostSyncCounter:
    """Counts tensor-to-host conversions made while active, and where they were made.

    Patches `torch.Tensor.item/.tolist/.cpu/.numpy/__float__/__int__/__bool__` with counting wrappers and restores
    them on exit. `sites` maps "file:line function" of the first caller outside torch to a count, so a report can
    name the hot spot in the engine.

    Examples:
        >>> with HostSyncCounter() as counter:
        ...     _ = torch.ones(1).item()
        >>> counter.total
        1
    """

    counts: Counter = field(default_factory=Counter)
    sites: Counter = field(default_factory=Counter)
    _saved: dict = field(default_factory=dict)
    _active: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def reset(self) -> None:
        self.counts.clear()
        self.sites.clear()

    def __enter__(self) -> HostSyncCounter:
        for name in _HOST_METHODS:
            self._saved[name] = torch.Tensor.__dict__.get(name)
            setattr(torch.Tensor, name, self._wrap(name, getattr(torch.Tensor, name)))
        self._active = True
        return self

    def __exit__(self, *exc: object) -> None:
        for name, original in self._saved.items():
            if original is None:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, original)
        self._saved.clear()
        self._active = False

    def _wrap(self, name: str, original: Callable) -> Callable:
        counter = self

        def counted(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            # Only conversions asked for outside torch count: torch's own (Adam reads its CPU step counters with
            # .item(), which never synchronises a GPU) are the same for every contender.
            if not sys._getframe(1).f_code.co_filename.startswith(_TORCH_DIR):
                counter.counts[name] += 1
                counter.sites[_caller_site()] += 1
            return original(tensor, *args, **kwargs)

        counted.__name__ = name
        return counted


_TORCH_DIR = os.path.dirname(torch.__file__)


def _caller_site() -> str:
    """The first stack frame outside this file and outside torch itself, as "path:line function"."""
    for frame in reversed(traceback.extract_stack(limit=12)[:-2]):
        if frame.filename == __file__ or frame.filename.startswith(_TORCH_DIR):
            continue
        return f"{_short_path(frame.filename)}:{frame.lineno} {frame.name}"
    return "<torch internals>"


def _short_path(path: str) -> str:
    for marker in ("trainer_core", "lightning", "benchmarks", "site-packages"):
        idx = path.find(os.sep + marker + os.sep)
        if idx >= 0:
            return path[idx + 1 :]
    return os.path.basename(path)
