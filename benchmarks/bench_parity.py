"""Parity with a hand-written PyTorch loop, after Lightning's own parity benchmark.

Median time per epoch; the final losses must be equal to 5 decimals.

Two workloads with the exact models and hyper-parameters of the issue: an LSTM regressor (300 sequences x 100 x 10,
batch 30) and an MNIST-shaped MLP classifier (60k synthetic samples, batch 128), 4 epochs each, DataLoader batches,
lean trainer flags. For each run i (seed i) the plain loop, trainer_core and (if installed) Lightning train the same
model from the same seed; run 0 is a one-epoch warm-up and is discarded. Reported: median time per epoch, the
difference and ratio against the plain loop, and whether the final losses agree to 5 decimals in every run.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from benchmarks import _frameworks as fw
from benchmarks._harness import clock, cpu_rows_wanted, cuda_available, make_row, quiet, skipped_row, synchronize
from benchmarks._workloads import Workload, lstm_data, lstm_workload, mnist_like_data, mnist_mlp_workload, plain_fit

# "Equal to 5 decimals" in numpy's sense (assert_almost_equal(decimal=5)): |a - b| < 1.5e-5.
LOSS_TOLERANCE = 1.5e-5


@dataclass
class Series:
    """Per-epoch times and final losses of one trainer over the measured runs."""

    epoch_times: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def per_epoch(self) -> float:
        return statistics.median(self.epoch_times) if self.epoch_times else math.nan


def _timed(fn: Callable[[], float], device: str) -> tuple[float, float]:
    synchronize(device)
    start = clock(device)
    loss = fn()
    synchronize(device)
    return clock(device) - start, loss


def compare(workload: Workload, data: object, *, epochs: int, repeats: int, device: str) -> dict[str, Series]:
    """Runs plain / trainer_core / Lightning interleaved (so drift hits all alike); run 0 is a discarded warm-up."""
    contenders: dict[str, Callable[[int, int], float]] = {
        "plain": lambda seed, n: plain_fit(workload, data, seed=seed, epochs=n, device=device),
    }
    series = {"plain": Series()}
    ours = fw.ours()
    if isinstance(ours, str):
        series["ours"] = Series(error=ours)
    else:
        contenders["ours"] = lambda seed, n: fw.fit(
            ours, workload, data, seed=seed, device=device, max_epochs=n, **fw.LEAN_FLAGS
        )
        series["ours"] = Series()
    lightning = fw.lightning()
    if lightning is not None:
        contenders["lightning"] = lambda seed, n: fw.fit(
            lightning, workload, data, seed=seed, device=device, max_epochs=n, **fw.LEAN_FLAGS
        )
        series["lightning"] = Series()
    for run in range(repeats + 1):
        n_epochs = 1 if run == 0 else epochs
        for name, contender in contenders.items():
            if series[name].error:
                continue
            try:
                with quiet():
                    seconds, loss = _timed(lambda c=contender, r=run, n=n_epochs: c(r, n), device)
            except Exception as exc:  # noqa: BLE001 - reported in the row, the other contenders go on
                series[name].error = f"{type(exc).__name__}: {exc}"[:200]
                continue
            if run > 0:
                series[name].epoch_times.append(seconds / n_epochs)
                series[name].losses.append(loss)
    return series


def _loss_check(plain: Series, other: Series) -> str:
    if len(other.losses) != len(plain.losses) or not other.losses:
        return "losses not compared"
    diffs = [abs(a - b) for a, b in zip(plain.losses, other.losses)]
    equal = sum(d < LOSS_TOLERANCE for d in diffs)
    verdict = "equal to 5 dp" if equal == len(diffs) else "DIFFER"
    return f"losses {verdict} {equal}/{len(diffs)} (max |diff| {max(diffs):.1e}, last {other.losses[-1]:.6f})"


def rows_for(label: str, series: dict[str, Series]) -> list[dict]:
    """One row per workload: ours vs plain, with Lightning's figures (when measured) in the note."""
    plain, ours = series["plain"], series["ours"]
    notes = []
    if ours.error:
        notes.append(f"trainer_core: {ours.error}")
    else:
        notes.append(f"{ours.per_epoch - plain.per_epoch:+.4f} s/epoch; {_loss_check(plain, ours)}")
    if "lightning" in series:
        light = series["lightning"]
        if light.error:
            notes.append(f"lightning: {light.error}")
        else:
            ratio = light.per_epoch / plain.per_epoch
            notes.append(
                f"lightning {fw.lightning().version}: {light.per_epoch:.4f} s/epoch ({ratio:.2f}x, "
                f"{light.per_epoch - plain.per_epoch:+.4f} s), {_loss_check(plain, light)}"
            )
    else:
        notes.append("lightning not installed (pip install .[bench])")
    return [make_row(label, ours.per_epoch, plain.per_epoch, "s/epoch", "; ".join(notes))]


def run(quick: bool, gpu: bool) -> list[dict]:
    """Parity rows on CPU, and on CUDA (deterministic cuDNN) when `gpu` is set."""
    if quick:
        sizes = {"lstm": dict(num_sequences=60, length=20), "mlp": dict(num_samples=1024)}
        epochs, repeats = 2, 1
    else:
        sizes = {"lstm": dict(num_sequences=300, length=100), "mlp": dict(num_samples=60_000)}
        epochs, repeats = 4, 3
    devices = ["cpu"] if cpu_rows_wanted() else []
    rows: list[dict] = []
    if gpu:
        if cuda_available():
            devices.append("cuda")
        else:
            rows.append(skipped_row("parity [cuda]", "s/epoch", "no CUDA device"))
    for device in devices:
        if device == "cuda" and not quick:
            repeats = 2  # the MLP's 469-batch epochs dominate a GPU lease; two measured runs keep it near 40 s
        suffix = "" if device == "cpu" else " [cuda]"
        previous = torch.backends.cudnn.deterministic
        torch.backends.cudnn.deterministic = True
        try:
            lstm = compare(lstm_workload(), lstm_data(**sizes["lstm"]), epochs=epochs, repeats=repeats, device=device)
            rows += rows_for(f"parity LSTM{suffix}", lstm)
            mlp_data = mnist_like_data(**sizes["mlp"])
            mlp = compare(mnist_mlp_workload(), mlp_data, epochs=epochs, repeats=repeats, device=device)
            rows += rows_for(f"parity MNIST MLP{suffix}", mlp)
        finally:
            torch.backends.cudnn.deterministic = previous
    return rows
