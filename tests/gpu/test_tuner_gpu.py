"""CUDA-only checks for the batch-size finder: real out-of-memory errors, no leak, the "fit" mode's memory path."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

PER_SAMPLE = 256 * 2**20  # bytes of activation per sample (1 GiB in float32 would be 4x this many elements)


class Hungry(pl.LightningModule):
    """Each sample needs PER_SAMPLE bytes of activations: the card fits a few hundred samples at most."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))
        self.batch_size = 2

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        (x,) = batch
        wide = x.new_ones(len(x), PER_SAMPLE // 4) * self.scale  # float32: PER_SAMPLE bytes per row
        return (wide * wide).mean()

    def configure_optimizers(self) -> Any:
        return torch.optim.SGD(self.parameters(), lr=1e-3)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(torch.zeros(4096, 1)), batch_size=self.batch_size)


def _trainer() -> pl.Trainer:
    return pl.Trainer(accelerator="gpu", devices=1, max_epochs=1, logger=False, enable_checkpointing=False,
                      enable_progress_bar=False, enable_model_summary=False)


@pytest.mark.parametrize("mode", ["binsearch", "fit"])
def test_finder_survives_real_oom_and_leaks_nothing(mode: str) -> None:
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info()
    model = Hungry().cuda()
    before = torch.cuda.memory_allocated()
    trainer = _trainer()
    found = trainer.tuner.scale_batch_size(model, mode=mode, max_trials=30)
    trials = trainer.tuner.last_trials
    assert any(not t.fits for t in trials), "the card never ran out of memory: raise PER_SAMPLE"
    # Each sample holds about 3 copies of its row at the peak (ones, product, square): a loose lower bound.
    assert found >= 0.5 * free / (3 * PER_SAMPLE)
    assert torch.cuda.memory_allocated() == before
    if mode == "fit":
        assert all(t.peak_memory is not None for t in trials if t.fits)


def test_fit_mode_is_close_to_binsearch_with_fewer_trials() -> None:
    model = Hungry().cuda()
    trainer = _trainer()
    exact = trainer.tuner.scale_batch_size(model, mode="binsearch", max_trials=30)
    binsearch_trials = len(trainer.tuner.last_trials)
    fast = trainer.tuner.scale_batch_size(model, mode="fit", max_trials=30)
    assert 0.97 * exact <= fast <= exact + 1
    assert len(trainer.tuner.last_trials) < binsearch_trials
