"""Where does the trainer's per-step overhead go? `python -m benchmarks.profile_step [--steps N] [--config NAME]`.

Runs trainer_core on the tiny MLP (or, with `--model linear`, a Linear(8, 1) on batches of 4, where the trainer's own
cost is most of a step) with in-memory batches under cProfile and prints the functions outside torch with the most
own time per training step, the Python function calls per step (all of them, and the engine's own: a count that
does not move with the machine's load), plus the tensor-to-host conversions per step and where they happen. The plain
loop's own Python cost is near zero, so what is listed here is the trainer's overhead. `--slope` adds the engine's
cost without a profiler: the per-step CPU time over the plain loop's, each the slope between a short and a long fit
(fastest of 5). Not a benchmark module (the runner ignores it): a tool for finding the hot spot behind a ratio.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks import _frameworks as fw
from benchmarks._harness import HostSyncCounter, quiet
from benchmarks._workloads import InMemoryBatches, Workload, plain_fit, tiny_mlp_batches, tiny_mlp_workload
from benchmarks.bench_overhead import _config_flags


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--config", choices=("lean", "default", "all on"), default="default")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (as the runner's default)")
    parser.add_argument("--model", choices=("mlp", "linear"), default="mlp",
                        help="the tiny MLP of the overhead benchmark, or a Linear(8, 1) that leaves mostly overhead")
    parser.add_argument("--slope", action="store_true", help="also time the engine without a profiler (~1 min)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ours = fw.ours()
    if isinstance(ours, str):
        print(ours, file=sys.stderr)
        return 1
    workload, make_batches = (tiny_mlp_workload(), tiny_mlp_batches) if args.model == "mlp" else _linear()
    batches = InMemoryBatches(make_batches(args.steps))
    with tempfile.TemporaryDirectory(prefix="profile-step-") as root:
        flags, log_loss = _config_flags(args.config, root)

        def fit(data: Any = batches) -> None:
            fw.fit(ours, workload, data, seed=0, log_loss=log_loss, max_epochs=1, **flags)

        with quiet():
            fit()  # warm-up
        profiler = cProfile.Profile()
        with quiet():
            profiler.enable()
            fit()
            profiler.disable()
        short = InMemoryBatches(make_batches(args.steps // 5))
        calls_short = _count_calls(lambda: fit(short))
        with quiet(), HostSyncCounter() as counter:
            fit()
        slope = _engine_slope(workload, make_batches, fit) if args.slope else None
    stats = pstats.Stats(profiler)
    torch_dir = os.path.dirname(torch.__file__)
    rows = []
    for (path, line, func), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        # Only the engine's own functions: torch, the standard library (mostly called by torch) and this package's
        # workload code are the same for the plain loop.
        if path.startswith(torch_dir) or os.sep + "trainer_core" + os.sep not in path:
            continue
        rows.append((own, calls, cumulative, f"{_short(path)}:{line} {func}"))
    rows.sort(reverse=True)
    engine_us = sum(r[0] for r in rows) / args.steps * 1e6
    calls_long = (stats.total_calls, sum(r[1] for r in rows))  # type: ignore[attr-defined]
    n_extra = args.steps - args.steps // 5
    model = "tiny MLP" if args.model == "mlp" else "Linear(8, 1)"
    print(f"trainer_core, {model}, {args.steps} in-memory steps, config {args.config!r}: own time per step")
    print(f"engine functions' own time: {engine_us:.1f} us/step under cProfile (which inflates small calls)")
    print(f"function calls per step: {(calls_long[0] - calls_short[0]) / n_extra:.1f} in all, "
          f"{(calls_long[1] - calls_short[1]) / n_extra:.1f} to engine functions (the slope between "
          f"{args.steps // 5} and {args.steps} steps)")
    if slope is not None:
        print(f"without a profiler: plain loop {slope[0]:.1f} us/step, trainer_core {slope[1]:.1f} us/step "
              f"(engine +{slope[1] - slope[0]:.1f} us/step, process CPU time)")
    print(f"{'us/step':>9} {'calls/step':>10} {'cum us/step':>11}  function")
    for own, calls, cumulative, name in rows[: args.top]:
        print(f"{own / args.steps * 1e6:9.1f} {calls / args.steps:10.2f} {cumulative / args.steps * 1e6:11.1f}  {name}")
    total_conversions = counter.total - 1  # the benchmark's own final float(loss)
    print(f"\nhost conversions: {total_conversions} in {args.steps} steps ({total_conversions / args.steps:.3f}/step)")
    for site, n in counter.sites.most_common(8):
        print(f"  {n:6d}  {site}")
    return 0


def _linear() -> tuple[Workload, Callable[[int], list]]:
    """A Linear(8, 1) regression with SGD on batches of 4: torch's share of a step is small, the trainer's shows."""

    def loss(net: nn.Module, batch: Any) -> torch.Tensor:
        x, y = batch
        return F.mse_loss(net(x), y)

    def batches(n: int) -> list:
        gen = torch.Generator().manual_seed(1234)
        return [(torch.randn(4, 8, generator=gen), torch.randn(4, 1, generator=gen)) for _ in range(n)]

    workload = Workload("linear", lambda: nn.Linear(8, 1), loss, lambda params: torch.optim.SGD(params, lr=0.01))
    return workload, batches


def _count_calls(fn: Callable[[], Any]) -> tuple[int, int]:
    """(all function calls, calls to trainer_core functions) made by ``fn()``."""
    profiler = cProfile.Profile()
    with quiet():
        profiler.enable()
        fn()
        profiler.disable()
    stats = pstats.Stats(profiler)
    engine = sum(calls for (path, _, _), (_, calls, *_) in stats.stats.items()  # type: ignore[attr-defined]
                 if os.sep + "trainer_core" + os.sep in path)
    return stats.total_calls, engine  # type: ignore[attr-defined]


def _engine_slope(workload: Workload, make_batches: Callable[[int], list], fit: Callable[[Any], None],
                  n_short: int = 500, n_long: int = 2500, repeats: int = 5) -> tuple[float, float]:
    """Per-step process CPU time (us) of the plain loop and of trainer_core: slope of the fastest short/long fits."""
    data = (InMemoryBatches(make_batches(n_short)), InMemoryBatches(make_batches(n_long)))
    contenders: dict[str, Callable[[Any], Any]] = {"plain": lambda d: plain_fit(workload, d, seed=0), "ours": fit}
    best = {(name, i): float("inf") for name in contenders for i in range(2)}
    for _ in range(repeats):
        for name, run in contenders.items():  # interleaved: drift in the machine's load hits both alike
            for i, batches in enumerate(data):
                with quiet():
                    start = time.process_time()
                    run(batches)
                    best[name, i] = min(best[name, i], time.process_time() - start)
    per_step = [(best[name, 1] - best[name, 0]) / (n_long - n_short) * 1e6 for name in contenders]
    return per_step[0], per_step[1]


def _short(path: str) -> str:
    for marker in ("trainer_core", "lightning", "site-packages"):
        idx = path.find(os.sep + marker + os.sep)
        if idx >= 0:
            return path[idx + 1 :]
    return path


if __name__ == "__main__":
    sys.exit(main())
