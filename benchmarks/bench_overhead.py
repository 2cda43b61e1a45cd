"""Per-step overhead of the trainer over a hand-written loop, and host synchronisations per step (issue 3 targets).

Per-step cost is the slope between a short and a long fit (T_long - T_short) / (n_long - n_short), each the fastest of
the repeats, so one-off costs (trainer construction, model summary, the checkpoint at the end of the epoch) do not
blur it; they are reported as the fixed cost per fit in the note. Workloads:

- tiny MLP 784-256-256-10, Adam, batch 64, batches already in memory and through a DataLoader, with the default
  flags minus progress bar / logger / checkpointing ("default") and with all of them on plus `self.log` of the loss
  every step ("all on"); targets 1.05x and 1.10x;
- a compute-bound small transformer under bf16 autocast ("bf16-mixed"); target 1.01x;
- tensor-to-host conversions per step counted on CPU (`.item()`, `.cpu()`, `.tolist()`, `float(t)`, ...).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

from benchmarks import _frameworks as fw
from benchmarks._harness import (
    HostSyncCounter,
    clock,
    cpu_rows_wanted,
    cuda_available,
    make_row,
    quiet,
    skipped_row,
    synchronize,
)
from benchmarks._workloads import (
    InMemoryBatches,
    Workload,
    plain_fit,
    tiny_mlp_batches,
    tiny_mlp_workload,
    transformer_batches,
    transformer_workload,
)

Fit = Callable[[int, Any], Any]  # (seed, data) -> anything


@dataclass
class StepCost:
    """Median per-step time (slope) and fixed time per fit (intercept) of one contender, in seconds."""

    per_step: float
    fixed: float


def _config_flags(config: str, root: str) -> tuple[dict[str, Any], bool]:
    """Trainer flags and whether the module logs its loss, for "lean" (parity), "default" or "all on"."""
    if config == "lean":
        return dict(fw.LEAN_FLAGS), False
    if config == "default":
        return {"enable_progress_bar": False, "logger": False, "enable_checkpointing": False}, False
    return {"enable_progress_bar": True, "logger": True, "enable_checkpointing": True, "default_root_dir": root}, True


def contenders(
    workload: Workload, config: str, root: str, *, device: str, precision: str | None = None
) -> dict[str, Fit | str]:
    """The plain loop plus each available framework under `config`; a string instead of a callable says why not."""
    amp = torch.bfloat16 if precision == "bf16-mixed" else None
    out: dict[str, Fit | str] = {
        "plain": lambda seed, data: plain_fit(workload, data, seed=seed, device=device, autocast_dtype=amp)
    }
    flags, log_loss = _config_flags(config, root)
    if precision:
        flags["precision"] = precision
    for name, framework in (("ours", fw.ours()), ("lightning", fw.lightning())):
        if framework is None:
            continue
        if isinstance(framework, str):
            out[name] = framework
            continue
        out[name] = lambda seed, data, f=framework: fw.fit(
            f, workload, data, seed=seed, device=device, log_loss=log_loss, max_epochs=1, **flags
        )
    return out


def step_costs(
    fits: dict[str, Fit | str], short: Any, long: Any, n_short: int, n_long: int, *, repeats: int, device: str
) -> dict[str, StepCost | str]:
    """Slope and intercept per contender from its fastest short and fastest long fit; repeat 0 is a warm-up.

    Contenders are interleaved within each repeat. The minimum (not the median) of each length is used because
    interference from other processes only ever adds time: on a shared 2-core machine the fastest run is the best
    estimate of each side's own cost, and the ratio of minima is far steadier than the ratio of medians.
    """
    times: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k, v in fits.items() if not isinstance(v, str)}
    errors: dict[str, str] = {k: v for k, v in fits.items() if isinstance(v, str)}
    for rep in range(repeats + 1):
        for name in list(times):
            try:
                t_short = _time(lambda n=name, r=rep: fits[n](r, short), device)
                t_long = _time(lambda n=name, r=rep: fits[n](r, long), device)
            except Exception as exc:  # noqa: BLE001 - reported in the row
                errors[name] = f"{type(exc).__name__}: {exc}"[:200]
                del times[name]
                continue
            if rep > 0:
                times[name][0].append(t_short)
                times[name][1].append(t_long)
    costs: dict[str, StepCost | str] = dict(errors)
    for name, (shorts, longs) in times.items():
        slope = (min(longs) - min(shorts)) / (n_long - n_short)
        costs[name] = StepCost(slope, min(shorts) - n_short * slope)
    return costs


def _time(fn: Callable[[], Any], device: str) -> float:
    with quiet():
        synchronize(device)
        start = clock(device)
        fn()
        synchronize(device)
        return clock(device) - start


def overhead_row(label: str, costs: dict[str, StepCost | str], target: str) -> dict:
    """ours vs plain in us/step; Lightning's figure and both fixed costs go in the note."""
    plain = costs["plain"]
    assert isinstance(plain, StepCost), plain
    ours = costs.get("ours")
    notes = [f"target {target}"]
    if isinstance(ours, StepCost):
        notes.append(f"{(ours.per_step - plain.per_step) * 1e6:+.1f} us/step, fixed {ours.fixed * 1e3:.0f} ms/fit")
        ours_us = ours.per_step * 1e6
    else:
        notes.append(f"trainer_core: {ours}")
        ours_us = float("nan")
    light = costs.get("lightning")
    if isinstance(light, StepCost):
        notes.append(
            f"lightning {fw.lightning().version}: {light.per_step * 1e6:.1f} us/step "
            f"({light.per_step / plain.per_step:.2f}x), fixed {light.fixed * 1e3:.0f} ms/fit"
        )
    elif isinstance(light, str):
        notes.append(f"lightning: {light}")
    return make_row(label, ours_us, plain.per_step * 1e6, "us/step", "; ".join(notes))


def mlp_rows(quick: bool, device: str, suffix: str = "") -> list[dict]:
    """Tiny MLP, in memory and through a DataLoader, "default" and "all on"."""
    if quick:
        n_short, n_long, repeats = 10, 40, 1
    elif device == "cpu":
        n_short, n_long, repeats = 100, 600, 3
    else:  # ~1.5 ms/step on an H100 VM: 12 contender-configs x 3 runs must fit a short lease
        n_short, n_long, repeats = 50, 300, 2
    batches = tiny_mlp_batches(n_long, device=device)
    x = torch.cat([b[0] for b in batches]).cpu()
    y = torch.cat([b[1] for b in batches]).cpu()
    pin = device != "cpu"

    def loader(n: int) -> DataLoader:
        return DataLoader(TensorDataset(x[: n * 64], y[: n * 64]), batch_size=64, pin_memory=pin)

    forms = {
        "in memory": (InMemoryBatches(batches[:n_short]), InMemoryBatches(batches)),
        "DataLoader": (loader(n_short), loader(n_long)),
    }
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as root:
        for form, (short, long) in forms.items():
            for config, target in (("default", "<= 1.05x"), ("all on", "<= 1.10x")):
                fits = contenders(tiny_mlp_workload(), config, root, device=device)
                costs = step_costs(fits, short, long, n_short, n_long, repeats=repeats, device=device)
                rows.append(overhead_row(f"step overhead tiny MLP, {form}, {config}{suffix}", costs, target))
    return rows


def transformer_rows(quick: bool, device: str, suffix: str = "") -> list[dict]:
    """Compute-bound transformer under bf16 autocast, lean flags."""
    if quick:
        shape = dict(d_model=64, layers=1, batch=4, seq=32)
    elif device == "cpu":
        shape = dict(d_model=128, layers=2, batch=8, seq=64)
    else:  # the size of the H100 yardstick: transformer encoder d512 x6, seq 256, batch 32
        shape = dict(d_model=512, layers=6, batch=32, seq=256)
    n_short, n_long, repeats = (3, 8, 1) if quick else (10, 40, 2) if device == "cuda" else (5, 25, 3)
    batches = transformer_batches(n_long, shape["batch"], shape["seq"], device=device)
    workload = transformer_workload(shape["d_model"], shape["layers"])
    fits = contenders(workload, "lean", "", device=device, precision="bf16-mixed")
    costs = step_costs(
        fits,
        InMemoryBatches(batches[:n_short]),
        InMemoryBatches(batches),
        n_short,
        n_long,
        repeats=repeats,
        device=device,
    )
    label = f"step time {workload.name} seq{shape['seq']} b{shape['batch']} bf16{suffix}"
    return [overhead_row(label, costs, "<= 1.01x")]


def sync_rows(quick: bool) -> list[dict]:
    """Tensor-to-host conversions per training step on CPU: (count over n_long - count over n_short) / difference."""
    n_short, n_long = (5, 15) if quick else (20, 60)
    batches = tiny_mlp_batches(n_long)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-syncs-") as root:
        for config in ("default", "all on"):
            fits = contenders(tiny_mlp_workload(), config, root, device="cpu")
            counts: dict[str, tuple[float, float, list[str]] | str] = {}
            for name, fit in fits.items():
                if isinstance(fit, str):
                    counts[name] = fit
                    continue
                per_fit = []
                for n in (n_short, n_long):
                    with quiet(), HostSyncCounter() as counter:
                        fit(0, InMemoryBatches(batches[:n]))
                    # plain_fit / fw.fit read the final loss once with float(); that read is not part of a step.
                    per_fit.append((counter.total, counter.sites))
                (c_short, _), (c_long, sites_long) = per_fit
                top = [f"{site} x{n}" for site, n in sites_long.most_common(3)]
                counts[name] = ((c_long - c_short) / (n_long - n_short), c_short - 1, top)
            rows.append(_sync_row(f"host syncs per step, tiny MLP, {config}", counts))
    return rows


def _sync_row(label: str, counts: dict[str, tuple[float, float, list[str]] | str]) -> dict:
    plain = counts["plain"]
    assert not isinstance(plain, str)
    ours = counts.get("ours")
    notes = []
    if isinstance(ours, tuple):
        notes.append(f"ours: {ours[1]:.0f} outside steps; top sites: {', '.join(ours[2]) or 'none'}")
        ours_per_step = ours[0]
    else:
        notes.append(f"trainer_core: {ours}")
        ours_per_step = float("nan")
    light = counts.get("lightning")
    if isinstance(light, tuple):
        notes.append(f"lightning: {light[0]:.2f}/step, {light[1]:.0f} outside steps")
    return make_row(label, ours_per_step, plain[0], "syncs/step", "; ".join(notes))


def run(quick: bool, gpu: bool) -> list[dict]:
    """CPU rows always; CUDA rows (same workloads on the GPU) when `gpu` is set and a device exists."""
    rows = mlp_rows(quick, "cpu") + transformer_rows(quick, "cpu") + sync_rows(quick) if cpu_rows_wanted() else []
    if gpu:
        if cuda_available():
            rows += mlp_rows(quick, "cuda", " [cuda]") + transformer_rows(quick, "cuda", " [cuda]")
        else:
            rows.append(skipped_row("step overhead [cuda]", "us/step", "no CUDA device"))
    return rows
