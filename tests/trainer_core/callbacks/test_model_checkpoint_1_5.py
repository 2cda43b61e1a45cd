"""ModelCheckpoint details as Lightning 1.5 has them (issue 14 item 34)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers.boring_model import BoringModel

import trainer_core as pl
from trainer_core.callbacks import ModelCheckpoint


def _trainer(checkpoint: ModelCheckpoint, root: Path, **flags: Any) -> pl.Trainer:
    return pl.Trainer(default_root_dir=str(root), callbacks=[checkpoint], logger=False, enable_progress_bar=False,
                      enable_model_summary=False, limit_train_batches=2, limit_val_batches=2, **flags)


class _Silent(BoringModel):
    """Logs nothing at all."""

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        return {"loss": self(batch).sum()}

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        return None


@pytest.mark.parametrize("save_on_train_epoch_end", [None, False, True])
def test_monitor_with_nothing_logged_saves_no_top_k_file_and_raises_nothing(
        tmp_path: Path, save_on_train_epoch_end: bool | None) -> None:
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", monitor="val_loss",
                                 save_on_train_epoch_end=save_on_train_epoch_end)
    _trainer(checkpoint, tmp_path, max_epochs=2).fit(_Silent())
    assert checkpoint.best_model_path == "" and checkpoint.best_k_models == {}
    assert not (tmp_path / "ckpt").exists() or os.listdir(tmp_path / "ckpt") == []


def test_monitor_missing_among_other_metrics_is_still_an_error(tmp_path: Path) -> None:
    from trainer_core.exceptions import MisconfigurationError

    class Logs(_Silent):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            out = super().training_step(batch, batch_idx)
            self.log("train_loss", out["loss"])
            return out

    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", monitor="val_loss")
    with pytest.raises(MisconfigurationError, match="could not find the monitored key"):
        _trainer(checkpoint, tmp_path, max_epochs=1).fit(Logs())


def test_empty_dirpath_gives_bare_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoint = ModelCheckpoint(dirpath="", filename="{epoch}")
    assert checkpoint.dirpath == ""
    assert checkpoint.format_checkpoint_name({"epoch": 3, "step": 2}) == "epoch=3.ckpt"
    assert checkpoint.format_checkpoint_name({"epoch": 3}, ver=2) == "epoch=3-v2.ckpt"
    # Saved relative to the working directory.
    monkeypatch.chdir(tmp_path)
    _trainer(checkpoint, tmp_path / "root", max_epochs=1).fit(BoringModel())
    assert (tmp_path / "epoch=0.ckpt").is_file()


def _written_state(dirpath: Path) -> dict[str, Any]:
    writer = ModelCheckpoint(dirpath=dirpath, monitor="val_loss", save_top_k=2)
    writer.best_k_models = {str(dirpath / "a.ckpt"): torch.tensor(0.5), str(dirpath / "b.ckpt"): torch.tensor(0.7)}
    writer.best_model_path, writer.best_model_score = str(dirpath / "a.ckpt"), torch.tensor(0.5)
    writer.kth_best_model_path, writer.kth_value = str(dirpath / "b.ckpt"), torch.tensor(0.7)
    writer.current_score, writer.last_model_path = torch.tensor(0.7), str(dirpath / "last.ckpt")
    return writer.on_save_checkpoint(None, None, {})


def test_restoring_into_another_dirpath_keeps_its_own_ranking(tmp_path: Path) -> None:
    state = _written_state(tmp_path / "old")
    reader = ModelCheckpoint(dirpath=tmp_path / "new", monitor=None, save_top_k=-1)
    own = {"best_k_models": {}, "kth_best_model_path": "", "last_model_path": "", "current_score": None,
           "dirpath": reader.dirpath, "monitor": None}
    reader.on_load_checkpoint(None, None, state)
    assert reader.best_model_path == state["best_model_path"]
    assert torch.equal(reader.best_model_score, state["best_model_score"])
    for name, value in own.items():
        assert getattr(reader, name) == value, name
    # Every saved key names an attribute of the callback, so a state compares attribute by attribute.
    for key in state:
        assert hasattr(reader, key), key


def test_restoring_into_the_same_dirpath_keeps_the_saved_ranking(tmp_path: Path) -> None:
    state = _written_state(tmp_path / "old")
    reader = ModelCheckpoint(dirpath=tmp_path / "old", monitor="val_loss", save_top_k=2)
    reader.on_load_checkpoint(None, None, state)
    assert set(reader.best_k_models) == set(state["best_k_models"])
    assert reader.kth_best_model_path == state["kth_best_model_path"]
    legacy = {k: v for k, v in state.items() if k != "_last_global_step_saved"}
    reader.on_load_checkpoint(None, None, {**legacy, "last_global_step_saved": 7})  # key of older checkpoints
    assert reader._last_global_step_saved == 7
