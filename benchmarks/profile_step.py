"""Where does the trainer's per-step overhead go? `python -m benchmarks.profile_step [--steps N] [--config NAME]`.

Runs trainer_core on the tiny MLP with in-memory batches under cProfile and prints the functions outside torch with
the most own time per training step, plus the tensor-to-host conversions per step and where they happen. The plain
loop's own Python cost is near zero, so what is listed here is the trainer's overhead. Not a benchmark module (the
runner ignores it): a tool for finding the hot spot behind a ratio.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
from collections.abc import Sequence

import torch

from benchmarks import _frameworks as fw
from benchmarks._harness import HostSyncCounter, quiet
from benchmarks._workloads import InMemoryBatches, tiny_mlp_batches, tiny_mlp_workload
from benchmarks.bench_overhead import _config_flags


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_step", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--config", choices=("lean", "default", "all on"), default="default")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (as the runner's default)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ours = fw.ours()
    if isinstance(ours, str):
        print(ours, file=sys.stderr)
        return 1
    batches = InMemoryBatches(tiny_mlp_batches(args.steps))
    with tempfile.TemporaryDirectory(prefix="profile-step-") as root:
        flags, log_loss = _config_flags(args.config, root)

        def fit() -> None:
            fw.fit(ours, tiny_mlp_workload(), batches, seed=0, log_loss=log_loss, max_epochs=1, **flags)

        with quiet():
            fit()  # warm-up
        profiler = cProfile.Profile()
        with quiet():
            profiler.enable()
            fit()
            profiler.disable()
        with quiet(), HostSyncCounter() as counter:
            fit()
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
    print(f"trainer_core, tiny MLP, {args.steps} in-memory steps, config {args.config!r}: own time per step")
    print(f"engine functions' own time: {engine_us:.1f} us/step under cProfile (which inflates small calls)")
    print(f"{'us/step':>9} {'calls/step':>10} {'cum us/step':>11}  function")
    for own, calls, cumulative, name in rows[: args.top]:
        print(f"{own / args.steps * 1e6:9.1f} {calls / args.steps:10.2f} {cumulative / args.steps * 1e6:11.1f}  {name}")
    total_conversions = counter.total - 1  # the benchmark's own final float(loss)
    print(f"\nhost conversions: {total_conversions} in {args.steps} steps ({total_conversions / args.steps:.3f}/step)")
    for site, n in counter.sites.most_common(8):
        print(f"  {n:6d}  {site}")
    return 0


def _short(path: str) -> str:
    for marker in ("trainer_core", "lightning", "site-packages"):
        idx = path.find(os.sep + marker + os.sep)
        if idx >= 0:
            return path[idx + 1 :]
    return path


if __name__ == "__main__":
    sys.exit(main())
