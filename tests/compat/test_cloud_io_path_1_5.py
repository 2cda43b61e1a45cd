"""``trainer_core.utilities.cloud_io`` (1.x ``pytorch_lightning.utilities.cloud_io``): ``load`` reads a checkpoint.

Lightning 1.5's checkpoint tests, and 1.x scripts, read checkpoint dicts with ``cloud_io.load``; the import stopped
the whole file before.
"""

from __future__ import annotations

import pickle

import pytest
import torch

import trainer_core as pl
from tests.helpers.boring_model import TinyLinear
from trainer_core.utilities.cloud_io import atomic_save, load


def test_load_reads_a_checkpoint_the_trainer_wrote(tmp_path):
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, logger=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(TinyLinear())
    checkpoint = load(trainer.checkpoint_callback.best_model_path)
    assert checkpoint["global_step"] == 2
    assert set(checkpoint["state_dict"]) == {"layer.weight", "layer.bias"}


def test_atomic_save_then_load_round_trips_and_load_stays_weights_only(tmp_path):
    path = tmp_path / "x.ckpt"
    atomic_save({"a": torch.ones(2), "n": 3}, path)
    loaded = load(path, map_location="cpu")
    assert loaded["n"] == 3 and torch.equal(loaded["a"], torch.ones(2))
    torch.save({"obj": TinyLinear}, tmp_path / "code.ckpt")  # a class reference needs full unpickling
    with pytest.raises(pickle.UnpicklingError):
        load(tmp_path / "code.ckpt")
