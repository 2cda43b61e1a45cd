"""Python work per training step, counted: `python -m benchmarks.count_step [--config NAME] [--model mlp|linear]`.

Counts the Python bytecode instructions (``sys.settrace`` opcode events) and Python function calls the trainer
executes per training step, as the slope between a short and a long fit, for the engine's own code (files under
``trainer_core/``) and for all Python code (the engine plus torch.optim, contextlib, tqdm, the module). A count does
not move with the machine's load, so it resolves a change of a few percent that a timing on a shared machine cannot.

The features that are throttled by time (the progress bar redraws at most every 0.1 s, the telemetry recorder
reports progress every 0.05 s, tqdm itself refreshes at most every 0.1 s) would redraw far more often per step
under the tracer, which slows a step many times. So ``time.monotonic`` and tqdm's clock are replaced during the
counted fits by a simulated clock that advances a fixed ``--step-ms`` (the untraced step time of the tiny MLP,
2.2 ms by default) per training batch: the redraws and reports then come at the rate of a real run, and the count
is the same on every run. Not a benchmark module (the
runner ignores it): a tool for comparing two trees, as in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from types import CodeType, FrameType
from typing import Any

import torch
import tqdm.std as tqdm_std

from benchmarks import _frameworks as fw
from benchmarks._harness import quiet
from benchmarks._workloads import InMemoryBatches, Workload, tiny_mlp_batches, tiny_mlp_workload
from benchmarks.bench_overhead import _config_flags

_ENGINE_MARKER = os.sep + "trainer_core" + os.sep
# The training loop's per-batch function: each call advances the simulated clock by one step.
_BATCH_FUNCTION = "_run_train_batch"


class _Tally:
    """Opcode events and calls per code object, and the simulated clock the batch function drives."""

    def __init__(self, step_s: float) -> None:
        self.opcodes: Counter[CodeType] = Counter()
        self.calls: Counter[CodeType] = Counter()
        self.step_s = step_s
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def wall_time(self) -> float:
        return 1.8e9 + self.now

    def global_trace(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        code = frame.f_code
        self.calls[code] += 1
        if code.co_name == _BATCH_FUNCTION and _ENGINE_MARKER in code.co_filename:
            self.now += self.step_s
        frame.f_trace_opcodes = True
        return self.local_trace

    def local_trace(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if event == "opcode":
            self.opcodes[frame.f_code] += 1
        return self.local_trace


def _traced(fn: Callable[[], Any], step_s: float) -> _Tally:
    tally = _Tally(step_s)
    real_monotonic = time.monotonic
    # tqdm throttles its own redraws by the wall clock it imported (``tqdm.std.time``): simulated as well, so the
    # Python work inside tqdm repeats too.
    real_tqdm_time = tqdm_std.time
    time.monotonic = tally.monotonic  # type: ignore[assignment] - the simulated clock, restored below
    tqdm_std.time = tally.wall_time
    try:
        with quiet():
            sys.settrace(tally.global_trace)
            try:
                fn()
            finally:
                sys.settrace(None)
    finally:
        time.monotonic = real_monotonic  # type: ignore[assignment]
        tqdm_std.time = real_tqdm_time
    return tally


def _totals(tally: _Tally) -> dict[str, int]:
    engine = [code for code in tally.opcodes.keys() | tally.calls.keys() if _ENGINE_MARKER in code.co_filename]
    return {
        "engine bytecodes": sum(tally.opcodes[c] for c in engine),
        "all bytecodes": sum(tally.opcodes.values()),
        "engine calls": sum(tally.calls[c] for c in engine),
        "all Python calls": sum(tally.calls.values()),
    }


def count(config: str, workload: Workload, make_batches: Callable[[int], list], *, n_short: int, n_long: int,
          step_s: float) -> tuple[dict[str, float], list[tuple[float, float, str]]]:
    """Per-step counts (slope between the two fit lengths) and the engine functions with most bytecodes per step."""
    ours = fw.ours()
    if isinstance(ours, str):
        raise SystemExit(ours)
    with tempfile.TemporaryDirectory(prefix="count-step-") as root:

        def fit(n: int, folder: str) -> Callable[[], Any]:
            # Each fit in a folder of its own: the logger's version_N search then does the same work every time.
            flags, log_loss = _config_flags(config, os.path.join(root, folder))
            data = InMemoryBatches(make_batches(n))
            return lambda: fw.fit(ours, workload, data, seed=0, log_loss=log_loss, max_epochs=1, **flags)

        # Warm-up, twice: lazy imports, per-class caches and the first warning of each kind are not per-step work.
        _traced(fit(5, "warm-up-1"), step_s)
        _traced(fit(5, "warm-up-2"), step_s)
        short, long = _traced(fit(n_short, "short"), step_s), _traced(fit(n_long, "long"), step_s)
    steps = n_long - n_short
    per_step = {key: (value - _totals(short)[key]) / steps for key, value in _totals(long).items()}
    rows = []
    for code in long.opcodes.keys() | long.calls.keys():
        if _ENGINE_MARKER not in code.co_filename:
            continue
        ops = (long.opcodes[code] - short.opcodes[code]) / steps
        calls = (long.calls[code] - short.calls[code]) / steps
        if ops or calls:
            path = code.co_filename[code.co_filename.find(_ENGINE_MARKER) + 1:]
            rows.append((ops, calls, f"{path}:{code.co_firstlineno} {code.co_name}"))
    rows.sort(reverse=True)
    return per_step, rows


def _linear() -> tuple[Workload, Callable[[int], list]]:
    from benchmarks.profile_step import _linear as linear

    return linear()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.count_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=("lean", "default", "all on"), action="append",
                        help="repeatable; default: both 'default' and 'all on'")
    parser.add_argument("--model", choices=("mlp", "linear"), default="mlp")
    parser.add_argument("--short", type=int, default=100)
    parser.add_argument("--long", type=int, default=300)
    parser.add_argument("--step-ms", type=float, default=2.2, help="simulated time per training batch")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    workload, make_batches = (tiny_mlp_workload(), tiny_mlp_batches) if args.model == "mlp" else _linear()
    for config in args.config or ["default", "all on"]:
        per_step, rows = count(config, workload, make_batches, n_short=args.short, n_long=args.long,
                               step_s=args.step_ms / 1000)
        print(f"config {config!r}, {args.model}, per training step (slope {args.short} -> {args.long} steps, "
              f"simulated {args.step_ms} ms/step):")
        print("  " + ", ".join(f"{key} {value:,.1f}" for key, value in per_step.items()))
        print(f"  {'bytecodes':>9} {'calls':>6}  engine function")
        for ops, calls, name in rows[: args.top]:
            print(f"  {ops:9.1f} {calls:6.2f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
