"""The hot path reads nothing back to the host: tensor-to-host conversions happen only on logging/refresh steps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from _techniques_models import BoringModel

import trainer_core as pl
from trainer_core.callback import Callback
from trainer_core.callbacks import ProgressBar
from trainer_core.telemetry import EventRecorder

_CONVERSIONS = ("item", "tolist", "numpy", "cpu", "__float__", "__int__", "__bool__", "__index__")


class HostReads:
    """Counts calls of the Tensor methods that copy a value to the host (each one a device sync on a GPU)."""

    def __init__(self) -> None:
        self.count = 0
        self.where: list[str] = []


@pytest.fixture
def host_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[HostReads]:
    reads = HostReads()

    def counting(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            reads.count += 1
            return original(self, *args, **kwargs)

        wrapper.__name__ = name
        return wrapper

    for name in _CONVERSIONS:
        monkeypatch.setattr(torch.Tensor, name, counting(name, getattr(torch.Tensor, name)))
    yield reads


class PerBatch(Callback):
    """Host reads between the start of one training batch and the start of the next (logging included)."""

    def __init__(self, reads: HostReads) -> None:
        self.reads = reads
        self.marks: list[int] = []

    def on_train_batch_start(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        self.marks.append(self.reads.count)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.marks.append(self.reads.count)

    def deltas(self) -> list[int]:
        return [b - a for a, b in zip(self.marks, self.marks[1:], strict=False)]


class Logging(BoringModel):
    def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        loss = self.loss(self(batch))
        self.log("train_loss", loss, prog_bar=True)
        return loss


N_BATCHES, EVERY = 20, 5


def _fit(tmp_path: Path, reads: HostReads, extra_callbacks: tuple[Callback, ...] = (), **flags: Any) -> list[int]:
    """Deltas per training batch of a fit with the default CSV logger, checkpointing, summary and event stream.

    The event recorder reports progress by wall-clock time (a host read each time); a long interval pins its reads
    to the first and the last batch so that the test is deterministic.
    """
    probe = PerBatch(reads)
    recorder = EventRecorder(progress_interval=3600.0)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=N_BATCHES,
                         limit_val_batches=2, log_every_n_steps=EVERY,
                         callbacks=[probe, recorder, *extra_callbacks], **flags)
    trainer.fit(Logging(batch_size=2, length=2 * N_BATCHES))
    k = trainer.accumulate_grad_batches
    assert trainer.global_step == N_BATCHES // k
    deltas = probe.deltas()
    assert len(deltas) == N_BATCHES
    return deltas


def _quiet(deltas: list[int], k: int = 1) -> list[int]:
    """Deltas of batches that log nothing: not a logging step, not the first (event stream) or the last batch."""
    logging = {i for i in range(N_BATCHES) if (i + 1) % (EVERY * k) == 0}
    return [deltas[i] for i in range(1, N_BATCHES - 1) if i not in logging]


def test_default_fit_reads_only_on_logging_steps(tmp_path: Path, host_reads: HostReads) -> None:
    deltas = _fit(tmp_path, host_reads, enable_progress_bar=False)
    assert _quiet(deltas) == [0] * len(_quiet(deltas)), deltas
    assert all(deltas[i] > 0 for i in range(EVERY - 1, N_BATCHES, EVERY))  # the logger did get values


def test_progress_bar_reads_only_when_it_redraws(tmp_path: Path, host_reads: HostReads) -> None:
    deltas = _fit(tmp_path, host_reads, (ProgressBar(refresh_rate=EVERY),))
    assert _quiet(deltas) == [0] * len(_quiet(deltas)), deltas


def test_accumulation_clipping_and_bf16_add_no_reads(tmp_path: Path, host_reads: HostReads) -> None:
    deltas = _fit(tmp_path, host_reads, enable_progress_bar=False, accumulate_grad_batches=2,
                  gradient_clip_val=0.5, precision="bf16")
    assert _quiet(deltas, k=2) == [0] * len(_quiet(deltas, k=2)), deltas


def test_grad_norm_telemetry_adds_no_reads(tmp_path: Path, host_reads: HostReads) -> None:
    class WantsNorms(Callback):
        grad_norm_type = 2.0

    deltas = _fit(tmp_path, host_reads, (WantsNorms(),), enable_progress_bar=False)
    assert _quiet(deltas) == [0] * len(_quiet(deltas)), deltas
