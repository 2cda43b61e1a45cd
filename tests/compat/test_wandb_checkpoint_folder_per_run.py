"""A real 1.x script logs with ``WandbLogger(project=..., save_dir=...)`` and a ``ModelCheckpoint`` without a
dirpath. In 1.5 the run exists before the checkpoint folder is chosen, so checkpoints go to
``save_dir/<project>/<run id>/checkpoints``: one folder per run. They went to ``save_dir/<project>/checkpoints``
before, shared by every run of the project (and ranked together by top-k). Driven with a recording stand-in of the
wandb client."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from tests.trainer_core.loggers.fake_services import Calls, fake_wandb
from trainer_core.loggers import WandbLogger


def _fit(tmp_path: Path) -> pl.Trainer:
    logger = WandbLogger(project="demo", offline=True, save_dir=str(tmp_path))
    trainer = pl.Trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, logger=logger,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(BoringModel())
    return trainer


def test_checkpoints_go_to_the_runs_own_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "wandb", fake_wandb(Calls()))
    trainer = _fit(tmp_path)
    saved = Path(trainer.checkpoint_callback.best_model_path)
    assert saved.parent == (tmp_path / "demo" / "run123" / "checkpoints").resolve()


def test_version_given_up_front_needs_no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    monkeypatch.setitem(sys.modules, "wandb", fake_wandb(calls))
    logger = WandbLogger(project="demo", version="abc", offline=True)
    assert logger.version == "abc" and not calls.of("init")


def test_asking_for_the_version_starts_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("wandb")
    module.run = None
    module.init = lambda **kwargs: types.SimpleNamespace(id="x1")  # a bare client: a run with an id only
    monkeypatch.setitem(sys.modules, "wandb", module)
    assert WandbLogger(offline=True).version == "x1"
