"""One two-process CPU run (gloo, ddp_spawn) that checks the DDP rules together (each spawn costs seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.trainer_core.strategies.ddp_models import Probe
from trainer_core import Trainer, seed_everything
from trainer_core.loggers import CSVLogger


def test_two_rank_run_follows_the_ddp_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PL_GLOBAL_SEED", "11")  # restored after the test; seed_everything sets it too
    seed_everything(11)
    trainer = Trainer(max_epochs=4, strategy="ddp_spawn", accelerator="cpu", devices=2, enable_progress_bar=False,
                      enable_model_summary=False, logger=CSVLogger(str(tmp_path / "logs"), name="runs"),
                      default_root_dir=str(tmp_path))
    trainer.fit(Probe(str(tmp_path)))
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]

    # EarlyStopping (from configure_callbacks, merged on every rank): rank 1 asked to stop after epoch 1; any
    # rank's request stops both (otherwise they would hang).
    assert trainer.current_epoch == 2 and trainer.global_step == 8  # 30 samples -> 15 per rank -> 4 batches

    # seed_everything reaches the workers; DDP broadcasts rank 0's weights although setup() made them differ.
    assert ranks[0]["python_draw"] == ranks[1]["python_draw"]
    assert ranks[0]["start_weight"] == ranks[1]["start_weight"]
    assert ranks[0]["end_weight"] == pytest.approx(ranks[1]["end_weight"], abs=1e-7)
    assert ranks[0]["gathered"] == ranks[1]["gathered"] == [{"rank": 0}, {"rank": 1}]  # all_gather_object

    # DistributedSampler: disjoint shares, reshuffled each epoch (set_epoch), eval unshuffled and padded evenly.
    for epoch in range(2):
        assert not set(ranks[0]["first_batch"][epoch]) & set(ranks[1]["first_batch"][epoch])
    assert all(r["first_batch"][0] != r["first_batch"][1] for r in ranks)
    assert ranks[0]["val_sizes"] == ranks[1]["val_sizes"] == [4, 3] * 3  # sanity check + 2 epochs

    # Rank 0 alone writes: one logger version, one metrics.csv, one checkpoint; the caller sees them.
    versions = sorted(p.name for p in (tmp_path / "logs" / "runs").iterdir())
    assert versions == ["version_0"]
    run_dir = tmp_path / "logs" / "runs" / "version_0"
    assert (run_dir / "metrics.csv").is_file()
    checkpoints = sorted(p.name for p in run_dir.rglob("*.ckpt"))
    assert checkpoints == ["epoch=1-step=8.ckpt"]
    assert Path(trainer.checkpoint_callback.best_model_path).name == "epoch=1-step=8.ckpt"
    assert Path(trainer.log_dir) == run_dir

    # sync_dist=True: the epoch loss is the mean over both ranks (finite, reported to the caller).
    assert "train_loss_epoch" in trainer.callback_metrics
