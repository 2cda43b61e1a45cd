"""CUDA-only figures: NVML sampling cost and host synchronisations per training step (both skipped without CUDA).

- NVML: the cost of one full telemetry sample (memory, utilisation, temperature, power, power limit, SM clock,
  running processes) through `pynvml`, and of the engine's `log_gpu_memory` reading, against one plain training step
  of the tiny MLP on the same GPU: the ratio is the share of a step that sampling on every step would add.
- Synchronisations: `torch.cuda.set_sync_debug_mode("warn")` warns once per synchronising call (`.item()`,
  `.cpu()`, ...); the warnings are counted over a short and a long fit, and the difference per step is reported.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import torch

from benchmarks import _frameworks as fw
from benchmarks._harness import cuda_available, make_row, measure, quiet, skipped_row
from benchmarks._workloads import InMemoryBatches, plain_fit, tiny_mlp_batches, tiny_mlp_workload


def _per_call_us(fn: Callable[[], Any], calls: int) -> float:
    fn()  # warm-up: first calls resolve symbols and allocate
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def nvml_rows(quick: bool) -> list[dict]:
    """Per-query NVML costs (note) and a full sample against one training step (row)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    except Exception as exc:  # noqa: BLE001 - NVMLError_LibraryNotFound and friends: no driver here
        return [skipped_row("NVML full sample", "us", f"NVML unavailable ({type(exc).__name__})")]
    queries: dict[str, Callable[[], Any]] = {
        "memory": lambda: pynvml.nvmlDeviceGetMemoryInfo(handle),
        "utilization": lambda: pynvml.nvmlDeviceGetUtilizationRates(handle),
        "temperature": lambda: pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU),
        "power": lambda: pynvml.nvmlDeviceGetPowerUsage(handle),
        "power limit": lambda: pynvml.nvmlDeviceGetEnforcedPowerLimit(handle),
        "sm clock": lambda: pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM),
        "processes": lambda: pynvml.nvmlDeviceGetComputeRunningProcesses(handle),
    }
    calls = 50 if quick else 500
    costs = {name: _per_call_us(q, calls) for name, q in queries.items()}
    sample = _per_call_us(lambda: [q() for q in queries.values()], calls // 5)
    step = _plain_step_us(quick)
    rows = [
        make_row(
            "NVML full sample vs one tiny-MLP step [cuda]",
            sample,
            step,
            "us",
            "per query: " + ", ".join(f"{k} {v:.1f}" for k, v in costs.items()),
        )
    ]
    try:
        from trainer_core.utilities import nvml as engine_nvml

        engine = _per_call_us(lambda: engine_nvml.gpu_memory_metrics("all"), calls)
        rows.append(make_row("log_gpu_memory reading vs one step [cuda]", engine, step, "us", "gpu_memory_metrics"))
    except Exception as exc:  # noqa: BLE001 - engine helper missing or failing: say so
        rows.append(skipped_row("log_gpu_memory reading vs one step [cuda]", "us", f"{type(exc).__name__}: {exc}"))
    return rows


def _plain_step_us(quick: bool) -> float:
    n = 50 if quick else 300
    data = InMemoryBatches(tiny_mlp_batches(n, device="cuda"))
    timing = measure(lambda i: plain_fit(tiny_mlp_workload(), data, seed=i, device="cuda"), repeats=3, device="cuda")
    return timing.median / n * 1e6


def _count_syncs(fn: Callable[[], Any]) -> int:
    previous = torch.cuda.get_sync_debug_mode()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with quiet(silence_warnings=False):
                fn()
        finally:
            torch.cuda.set_sync_debug_mode(previous)
    return sum("synchroniz" in str(w.message) for w in caught)


def sync_rows(quick: bool) -> list[dict]:
    """Synchronising calls per step on CUDA: plain loop vs trainer_core (Lightning in the note)."""
    n_short, n_long = (5, 15) if quick else (20, 120)
    batches = tiny_mlp_batches(n_long, device="cuda")
    workload = tiny_mlp_workload()
    label = "host syncs per step, tiny MLP, lean [cuda]"

    def per_step(fit: Callable[[Any], Any]) -> float:
        short = _count_syncs(lambda: fit(InMemoryBatches(batches[:n_short])))
        long = _count_syncs(lambda: fit(InMemoryBatches(batches)))
        return (long - short) / (n_long - n_short)

    plain = per_step(lambda data: plain_fit(workload, data, seed=0, device="cuda"))
    ours = fw.ours()
    if isinstance(ours, str):
        return [skipped_row(label, "syncs/step", ours)]
    flags = dict(fw.LEAN_FLAGS, max_epochs=1)
    mine = per_step(lambda data: fw.fit(ours, workload, data, seed=0, device="cuda", **flags))
    note = "counted with torch.cuda.set_sync_debug_mode('warn')"
    light = fw.lightning()
    if light is not None:
        theirs = per_step(lambda data: fw.fit(light, workload, data, seed=0, device="cuda", **flags))
        note += f"; lightning {theirs:.2f}/step"
    return [make_row(label, mine, plain, "syncs/step", note)]


def run(quick: bool, gpu: bool) -> list[dict]:
    """Nothing without `gpu`; skipped rows when there is no CUDA device."""
    if not gpu:
        return []
    if not cuda_available():
        return [skipped_row("gpu benchmarks", "-", "no CUDA device")]
    return nvml_rows(quick) + sync_rows(quick)
