"""The batch-size finder: short fits at growing sizes until memory runs out.

Three searches share one trial function (``try_size(n) -> Trial``), so they can be tested with a plain oracle:

* ``power``: double from ``init_val`` until a trial runs out of memory; the last size that ran (2.x).
* ``binsearch``: double until the first failure, then bisect between the last success and the failure; trials are
  counted as in Lightning 1.5 (``init_val=4, max_trials=2`` without OOM gives 16).
* ``fit``: measure peak memory at three small sizes, fit ``memory = a + b * batch``, jump close to the predicted
  limit, keep extrapolating from the two largest successes, then bisect a short bracket to ``tolerance``. Without
  CUDA memory statistics (on the CPU) it searches like ``binsearch``.

Out of memory is ``torch.OutOfMemoryError`` or a RuntimeError whose message is a CUDA/cuDNN/CPU-allocator OOM; memory
is released between trials (``gc.collect`` + ``torch.cuda.empty_cache``) and every other error propagates.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from trainer_core.tuner._session import SessionCallback, TuningSession

__all__ = ["Trial", "is_oom_error", "release_memory", "power_search", "binsearch", "fit_search", "CudaMemoryProbe",
           "run_trial", "MODES", "frozen_heap"]

log = logging.getLogger("trainer_core")

MODES = ("power", "binsearch", "fit")

_OOM_MESSAGES = (
    "DefaultCPUAllocator: can't allocate memory",
    "cuDNN error: CUDNN_STATUS_NOT_SUPPORTED.",
    "MPS backend out of memory",
)


@dataclass
class Trial:
    """One short fit at ``batch_size``: whether it fit, its peak allocated memory (bytes or None) and wall time."""

    batch_size: int
    fits: bool
    peak_memory: int | None = None
    time_s: float = 0.0
    #: Optimizer steps the trial ran (0 when the loader gave no batch at this size, e.g. drop_last).
    steps: int = 0
    oom: bool = False

    def as_event(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "fits": self.fits, "peak_memory": self.peak_memory,
                "time_s": self.time_s}


TrySize = Callable[[int], Trial]


def is_oom_error(err: BaseException) -> bool:
    """Whether ``err`` means the device (or host) ran out of memory."""
    if isinstance(err, torch.OutOfMemoryError):
        return True
    if not isinstance(err, RuntimeError) or len(err.args) != 1 or not isinstance(err.args[0], str):
        return False
    message = err.args[0]
    return ("CUDA" in message and "out of memory" in message) or any(m in message for m in _OOM_MESSAGES)


def release_memory() -> None:
    """Free what the last trial left: collect cycles, then return cached CUDA blocks to the driver."""
    gc.collect()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


@contextmanager
def frozen_heap(full_collect: bool) -> Iterator[None]:
    """Freeze the objects that exist before the search, so each trial's ``gc.collect`` scans only new objects.

    A full collection takes 0.1-0.4 s once torch is imported; after ``gc.freeze()`` it takes microseconds, which
    matters when a finder runs a dozen trials. With ``full_collect`` (CUDA) one full collection runs first, so the
    memory measured by the first trial is not inflated by old garbage.
    """
    if full_collect:
        release_memory()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# --- memory statistics ----------------------------------------------------------------------------------------


class CudaMemoryProbe:
    """Peak allocated memory per trial and the memory this process can use, on one CUDA device."""

    def __init__(self, device: torch.device) -> None:
        self.device = device

    def reset(self) -> None:
        torch.cuda.reset_peak_memory_stats(self.device)

    def peak(self) -> int | None:
        return int(torch.cuda.max_memory_allocated(self.device))

    def budget(self) -> int | None:
        """Free memory on the card plus what our caching allocator holds (it can reuse that)."""
        free, _total = torch.cuda.mem_get_info(self.device)
        return int(free + torch.cuda.memory_reserved(self.device))


def memory_probe_for(device: torch.device) -> Any:
    """A memory probe for ``device``, or None where there are no per-process memory statistics (CPU)."""
    if device.type == "cuda" and torch.cuda.is_available():
        return CudaMemoryProbe(device)
    return None


# --- one trial ------------------------------------------------------------------------------------------------


class _TrialCallback(SessionCallback):
    """Counts the steps a trial ran and reads the dataset length (the cap for the batch size)."""

    def __init__(self) -> None:
        self.steps = 0
        self.dataset_len: int | None = None
        self._epoch_batches = 0

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        super().on_fit_start(trainer, pl_module)
        # Schedulers change the lr, not the memory; a ReduceLROnPlateau would also miss its (unvalidated) metric.
        trainer.lr_schedulers = []

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        dataset = getattr(trainer.train_dataloader, "dataset", None)
        try:
            self.dataset_len = len(dataset) if dataset is not None else None
        except TypeError:
            self.dataset_len = None

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._epoch_batches = 0

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        self._epoch_batches += 1

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self._epoch_batches == 0:
            trainer.should_stop = True  # an empty epoch: looping again would never reach the step limit

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self.steps = trainer.global_step


@dataclass
class TrialContext:
    """What ``run_trial`` needs besides the size: where to write it, how many steps, how to measure memory."""

    session: TuningSession
    write: Callable[[int], None]
    steps: int
    probe: Any = None
    dataset_len: int | None = None


def run_trial(ctx: TrialContext, size: int) -> Trial:
    """One short fit at ``size``; OOM becomes ``fits=False``, any other error propagates."""
    ctx.write(size)
    if ctx.probe is not None:
        ctx.probe.reset()
    callback = _TrialCallback()
    start = time.perf_counter()
    oom = False
    try:
        # Every batch of the loader counts, whatever limit_train_batches says (1.x does the same).
        ctx.session.run(callback, max_steps=ctx.steps, limit_train_batches=1.0)
    except BaseException as err:
        if not is_oom_error(err):
            raise
        oom = True
        log.info("batch size %d: out of memory", size)
    # Outside the except block: the traceback (and the activations its frames hold) is gone before collecting.
    elapsed = time.perf_counter() - start
    peak = ctx.probe.peak() if ctx.probe is not None and not oom else None
    release_memory()
    if callback.dataset_len is not None:
        ctx.dataset_len = callback.dataset_len
    # A trial that ran no step proved nothing (the loader gave no batch at this size): it does not fit either.
    fits = not oom and callback.steps > 0 and not ctx.session.interrupted
    trial = Trial(size, fits, peak, round(elapsed, 4), callback.steps, oom)
    ctx.session.emit("on_batch_size_trial", trial.as_event())
    return trial


# --- searches -------------------------------------------------------------------------------------------------


def power_search(try_size: TrySize, init_val: int, max_trials: int, cap: Callable[[], int]) -> int | None:
    """Double until a failure; the last size that ran. A failing first size is halved until one runs."""
    size, last_ok, failed = min(init_val, cap()), None, False
    for _ in range(max_trials):
        if try_size(size).fits:
            last_ok = size
            new = min(size * 2, cap())
            if failed or new <= size:
                break
            size = new
        elif last_ok is not None or size == 1:
            break
        else:
            failed = True
            size //= 2
    return last_ok


def binsearch(try_size: TrySize, init_val: int, max_trials: int, cap: Callable[[], int]) -> int | None:
    """Double until the first failure, then bisect; stops after more than ``max_trials`` successes (1.5)."""
    size, low, high, successes, last_ok = min(init_val, cap()), 0, None, 0, None
    while True:
        if try_size(size).fits:
            successes += 1
            low = last_ok = size
            if successes > max_trials:
                break
            if high is not None:
                if high - low <= 1:
                    break
                size = (low + high) // 2
            else:
                new = min(size * 2, cap())
                if new <= size:
                    break
                size = new
        else:
            high = size
            if high - low <= 1:
                break
            size = (low + high) // 2
    return last_ok


@dataclass
class _Line:
    """memory = a + b * batch through measured points."""

    a: float
    b: float

    @classmethod
    def through(cls, points: list[tuple[int, int]]) -> _Line | None:
        if len(points) < 2:
            return None
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        if var == 0:
            return None
        b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var
        return cls(my - b * mx, b) if b > 0 else None

    def limit(self, budget: int) -> float:
        return (budget - self.a) / self.b


def fit_search(try_size: TrySize, init_val: int, max_trials: int, cap: Callable[[], int],
               budget: Callable[[], int | None], tolerance: float = 0.02) -> int | None:
    """Probe three small sizes, fit memory = a + b * batch, jump near the limit, bisect a short bracket.

    Args:
        try_size: runs one trial.
        init_val: the first probe; probes are ``s, 2s, 4s`` with ``s = max(init_val, 8)``.
        max_trials: most trials in all.
        cap: the largest size allowed now (dataset length, ``max_val``).
        budget: bytes this process may use (read once, after the probes); None means no statistics.
        tolerance: stop when the bracket between the largest success and the smallest failure is at most this
            fraction of the success (0 bisects to one sample).
    """
    trials = 0
    low, high = 0, None
    points: list[tuple[int, int]] = []

    def attempt(size: int) -> bool:
        nonlocal trials, low, high
        trials += 1
        trial = try_size(size)
        if trial.fits:
            low = max(low, size)
            if trial.peak_memory is not None:
                points.append((size, trial.peak_memory))
        else:
            high = size if high is None else min(high, size)
        return trial.fits

    start = max(init_val, 8)
    for size in (start, 2 * start, 4 * start):
        size = min(size, cap())
        if size <= low or not attempt(size):
            break
    if len(points) < 2:
        tolerance = 0.0  # no memory statistics (CPU): nothing to predict with, so bisect to one sample
    total = budget() if high is None and len(points) >= 2 else None
    step_downs, grow = 0, max(tolerance, 0.02)
    while trials < max_trials:
        if high is not None and high - low <= max(1, int(tolerance * low)):
            break
        if high is None and low >= cap():
            break
        line = None
        if total is not None:
            # Least squares over the probes; once a big trial ran, the secant through the two largest sizes (memory
            # per sample shrinks at large batches, so the local slope predicts the limit better).
            ordered = sorted(points)
            line = _Line.through(ordered[-2:] if ordered[-1][0] > 4 * start else ordered)
        if high is None:
            # No failure yet: jump to the predicted limit (or double without statistics). When the line says we
            # are at the limit but trials keep fitting, grow by 2 %, 4 %, 8 %, ... per trial.
            guess = int(line.limit(total)) if line is not None else 2 * low
            step = low + max(1, int(grow * low))
            if guess <= step:
                grow *= 2
            size = min(max(guess, step), cap())
        elif line is not None and step_downs < 3 and high - low > 0.1 * high:
            # A predicted jump failed: step back 5 %, then 10 %, then 20 %, rather than halving a wide bracket.
            size = max((low + high) // 2, int(high * (1 - 0.05 * 2**step_downs)))
            step_downs += 1
        else:
            size = (low + high) // 2
        size = max(size, low + 1)
        if high is not None:
            size = min(size, high - 1)
        if size <= low:
            break
        attempt(size)
        if low == 0 and high == 1:
            break
    return low or None
