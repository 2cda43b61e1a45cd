"""A stop asked of one rank of a DDP run stops every rank at the same batch (the ranks vote), with one checkpoint."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from tests.trainer_core.strategies.ddp_models import AskedToStopOnOneRank
from trainer_core import Trainer
from trainer_core.callbacks.stop_on_request import StopOnRequest


@pytest.mark.timeout(180)  # a rank stopping alone would leave the other in its next all-reduce until gloo's timeout
def test_a_stop_seen_by_one_rank_stops_both_at_the_next_vote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    # 32 samples over 2 ranks, batch 2: 8 batches per epoch and rank. Rank 1 is asked after batch 1 of epoch 1;
    # the ranks vote after every 4th batch, so both stop after batch 3 of epoch 1: global step 8 + 4.
    stopper = StopOnRequest(threading.Event(), sync_every=4)
    trainer = Trainer(max_epochs=3, strategy="ddp_spawn", accelerator="cpu", devices=2, callbacks=[stopper],
                      enable_progress_bar=False, enable_model_summary=False, default_root_dir=str(tmp_path))
    trainer.fit(AskedToStopOnOneRank(str(tmp_path), rank=1, at=1))
    ends = [json.loads((tmp_path / f"stop{rank}.json").read_text()) for rank in range(2)]
    assert ends == [{"global_step": 12, "interrupted": True}] * 2, "both ranks stopped at the same batch"
    stops = sorted(path.name for path in tmp_path.rglob("stopped-*.ckpt"))
    assert stops == ["stopped-epoch=1-step=12.ckpt"], "rank 0 wrote the one stop checkpoint"


def test_one_process_stops_at_the_next_batch_without_voting(tmp_path: Path) -> None:
    stopper = StopOnRequest(threading.Event(), sync_every=4)
    trainer = Trainer(max_epochs=3, callbacks=[stopper], enable_progress_bar=False, enable_model_summary=False,
                      default_root_dir=str(tmp_path))
    trainer.fit(AskedToStopOnOneRank(str(tmp_path), rank=0, at=1))
    # Asked in the module's hook after batch 1 (callbacks' hooks run first): it stops after batch 2, not batch 3.
    assert trainer.interrupted and trainer.global_step == 16 + 3, "the batch after the request, not the 4th"
