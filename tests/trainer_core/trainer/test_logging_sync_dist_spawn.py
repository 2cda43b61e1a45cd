"""ddp_spawn: a step metric logged with sync_dist=True, reduce_fx="sum" reaches callback_metrics reduced (item 23)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.boring_model import BoringModel
from trainer_core import Trainer


class RankSum(BoringModel):
    """Each rank logs its rank + 1; summed over two ranks that is 3, rank 0 alone would say 1."""

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        self.log("rank_sum", float(self.global_rank + 1), sync_dist=True, reduce_fx="sum")
        return super().training_step(batch, batch_idx)


@pytest.mark.slow  # two spawned processes: about 50 s on a busy 2-core machine
def test_step_metric_with_sync_dist_sum_is_reduced_over_ranks(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    trainer = Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, strategy="ddp_spawn",
                      accelerator="cpu", devices=2, enable_progress_bar=False, enable_model_summary=False,
                      enable_checkpointing=False, logger=False, default_root_dir=str(tmp_path))
    trainer.fit(RankSum(batch_size=4))
    assert float(trainer.callback_metrics["rank_sum"]) == 3.0
