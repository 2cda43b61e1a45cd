"""Adapters that run a `Workload` under trainer_core or (when installed) Lightning, with identical flags.

trainer_core is "ours"; Lightning is the optional yardstick from the `bench` extra. Both are imported lazily so the
runner works while either is missing, and a benchmark can say why a figure is absent instead of crashing.
"""

from __future__ import annotations

import functools
import importlib
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch

from benchmarks._harness import seed_all
from benchmarks._workloads import Batch, InMemoryBatches, Workload

__all__ = [
    "LEAN_FLAGS",
    "Framework",
    "as_loader",
    "build_module",
    "fit",
    "lightning",
    "make_trainer",
    "module_class",
    "ours",
]

# The lean configuration of the parity benchmark: everything that is not training switched off.
LEAN_FLAGS: dict[str, Any] = {
    "enable_progress_bar": False,
    "enable_model_summary": False,
    "enable_checkpointing": False,
    "logger": False,
    "num_sanity_val_steps": 0,
}


@dataclass(frozen=True)
class Framework:
    """A trainer package: its LightningModule base class and Trainer class."""

    name: str
    version: str
    module_base: type
    trainer_cls: type

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@functools.cache
def ours() -> Framework | str:
    """trainer_core as a Framework, or a one-line reason why it cannot be used yet."""
    try:
        pl = importlib.import_module("trainer_core")
        return Framework("trainer_core", getattr(pl, "__version__", "dev"), pl.LightningModule, pl.Trainer)
    except Exception as exc:  # noqa: BLE001 - any import failure means "not benchmarkable", reported in the row
        return f"trainer_core not importable ({type(exc).__name__}: {exc})"


@functools.cache
def lightning() -> Framework | None:
    """Lightning 2.x from the optional `bench` extra, or None when it is not installed."""
    try:
        import lightning as lightning_pkg
        import lightning.pytorch as lp
    except Exception:  # noqa: BLE001 - optional yardstick: absence is normal
        return None
    # Its banners ("GPU available: ...", tips) would interleave with the table.
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return Framework("lightning", lightning_pkg.__version__, lp.LightningModule, lp.Trainer)


@functools.cache
def _module_class(base: type, log_loss: bool) -> type:
    """A LightningModule subclass of `base` whose training_step is the workload's loss (same code for everyone)."""

    class BenchModule(base):  # type: ignore[misc, valid-type]
        def __init__(self, workload: Workload) -> None:
            super().__init__()
            self.workload = workload
            self.net = workload.build()
            # The loss is kept as a tensor and read after fit, exactly like the plain loop: no per-step sync.
            self.last_loss: torch.Tensor | None = None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.net(x)

        def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
            loss = self.workload.loss(self.net, batch)
            self.last_loss = loss.detach()
            if log_loss:
                self.log("train_loss", loss)
            return loss

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return self.workload.optimizer(self.parameters())

    BenchModule.__qualname__ = BenchModule.__name__ = f"BenchModule_{base.__module__.split('.')[0]}"
    return BenchModule


def module_class(framework: Framework, *, log_loss: bool = False) -> type:
    """The benchmark LightningModule class for `framework`: `cls(workload)` wraps the workload."""
    return _module_class(framework.module_base, log_loss)


def build_module(framework: Framework, workload: Workload, *, log_loss: bool = False) -> Any:
    """A module for `framework` wrapping `workload` (call after seeding: it initialises the weights)."""
    return module_class(framework, log_loss=log_loss)(workload)


def make_trainer(framework: Framework, *, device: str = "cpu", **flags: Any) -> Any:
    """The framework's Trainer on one `device` ("cpu" or "cuda") with the given flags."""
    accelerator = "gpu" if torch.device(device).type == "cuda" else "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return framework.trainer_cls(accelerator=accelerator, devices=1, **flags)


def fit(
    framework: Framework,
    workload: Workload,
    data: Iterable[Batch],
    *,
    seed: int,
    device: str = "cpu",
    log_loss: bool = False,
    **flags: Any,
) -> float:
    """Seeds, builds the module and a Trainer, fits on `data` and returns the last batch's loss (like plain_fit).

    Warnings are left alone (callers time inside `quiet()`), so CUDA sync-debug warnings can be counted.
    """
    seed_all(seed)
    module = build_module(framework, workload, log_loss=log_loss)
    trainer = make_trainer(framework, device=device, **flags)
    trainer.fit(module, train_dataloaders=data)
    if module.last_loss is None:
        raise RuntimeError(f"{framework.label} ran no training step: check the benchmark's flags {flags}")
    return float(module.last_loss)


def as_loader(batches: list, framework: Framework) -> Iterable[Batch]:
    """In-memory batches in the cheapest form `framework` accepts: a plain re-iterable (both accept one)."""
    del framework  # one form for both today; kept as the place to adapt if a trainer needs a DataLoader
    return InMemoryBatches(batches)
