"""What profiling costs: per-step time of a fit with a profiler against the same fit without one.

Rows:
- "profiler step cost, simple/advanced": tiny MLP, batches in memory, lean flags; baseline = profiler off (the
  PassThroughProfiler, which the trainer skips entirely), ours = the same fit with the profiler on.
- "profiler region cost": one ``with profiler.profile(name)`` region, SimpleProfiler vs PassThroughProfiler.
- "log_gpu_memory reading" (CUDA machines): one ``gpu_memory_metrics("all")`` call through NVML.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from benchmarks import _frameworks as fw
from benchmarks._harness import cpu_rows_wanted, cuda_available, make_row, skipped_row
from benchmarks._workloads import InMemoryBatches, tiny_mlp_batches, tiny_mlp_workload
from benchmarks.bench_overhead import StepCost, step_costs


def _fits(profiler: str, device: str) -> dict[str, Any]:
    framework = fw.ours()
    if isinstance(framework, str):
        return {"off": framework, "on": framework}
    workload = tiny_mlp_workload()

    def fit(seed: int, data: Any, prof: str | None) -> float:
        return fw.fit(framework, workload, data, seed=seed, device=device, max_epochs=1, profiler=prof,
                      **fw.LEAN_FLAGS)

    return {"off": lambda seed, data: fit(seed, data, None), "on": lambda seed, data: fit(seed, data, profiler)}


def step_rows(quick: bool, device: str, suffix: str = "") -> list[dict]:
    """Per-step cost with each profiler on, against the same fit with it off."""
    n_short, n_long, repeats = (10, 40, 1) if quick else (200, 1000, 3)
    batches = tiny_mlp_batches(n_long, device=device)
    short, long = InMemoryBatches(batches[:n_short]), InMemoryBatches(batches)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-profilers-"):
        for profiler in ("simple", "advanced"):
            costs = step_costs(_fits(profiler, device), short, long, n_short, n_long, repeats=repeats,
                               device=device)
            on, off = costs["on"], costs["off"]
            name = f"profiler step cost tiny MLP, {profiler}{suffix}"
            if not isinstance(on, StepCost) or not isinstance(off, StepCost):
                rows.append(skipped_row(name, "us/step", str(on if isinstance(on, str) else off)))
                continue
            note = "baseline = same fit, profiler off" + (" (target <= 1.10x)" if profiler == "simple" else "")
            rows.append(make_row(name, on.per_step * 1e6, off.per_step * 1e6, "us/step", note))
    return rows


def _per_call(fn: Any, n: int) -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - start) / n)
    return statistics.median(times[1:])


def region_rows(quick: bool) -> list[dict]:
    """Cost of one profiled region, SimpleProfiler against the no-op profiler."""
    from trainer_core.profilers import PassThroughProfiler, SimpleProfiler

    n = 20_000 if quick else 200_000
    simple, passthrough = SimpleProfiler(), PassThroughProfiler()

    def with_simple() -> None:
        with simple.profile("training_step"):
            pass

    def with_passthrough() -> None:
        with passthrough.profile("training_step"):
            pass

    ours, base = _per_call(with_simple, n), _per_call(with_passthrough, n)
    return [make_row("profiler region cost, SimpleProfiler", ours * 1e9, base * 1e9, "ns/region",
                     "baseline = PassThroughProfiler.profile (the trainer skips even that when profiling is off)")]


def nvml_rows(quick: bool) -> list[dict]:
    """One log_gpu_memory reading (all GPUs) through NVML; Lightning 1.x spawned nvidia-smi instead."""
    from trainer_core.utilities.nvml import gpu_memory_metrics, nvml_available

    if not nvml_available():
        return [skipped_row("log_gpu_memory reading [cuda]", "us/call", "no NVIDIA driver")]
    n = 200 if quick else 2000
    ours = _per_call(lambda: gpu_memory_metrics("all"), n)
    return [make_row("log_gpu_memory reading [cuda]", ours * 1e6, float("nan"), "us/call",
                     "NVML, no subprocess; about 8 us per nvmlDeviceGetMemoryInfo on an H100")]


def run(quick: bool, gpu: bool) -> list[dict]:
    """CPU rows always (unless --gpu-only); with `gpu`, the step cost on CUDA and the NVML reading."""
    rows = step_rows(quick, "cpu") + region_rows(quick) if cpu_rows_wanted() else []
    if gpu:
        if cuda_available():
            rows += step_rows(quick, "cuda", " [cuda]") + nvml_rows(quick)
        else:
            rows.append(skipped_row("profiler step cost [cuda]", "us/step", "no CUDA device"))
    return rows
