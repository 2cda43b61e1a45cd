"""A placeholder in ``ModelCheckpoint.CHECKPOINT_NAME_LAST`` is filled as in every checkpoint name (1.5).

``CHECKPOINT_NAME_LAST = "last-{epoch}"`` gives ``last-epoch=1.ckpt`` (``last-1.ckpt`` with
``auto_insert_metric_name=False``); the last name was always filled without the metric name before.
"""

from __future__ import annotations

import os

import pytest

import trainer_core as pl
from tests.helpers.boring_model import TinyLinear
from trainer_core.callbacks import ModelCheckpoint


class _LastWithEpoch(ModelCheckpoint):
    CHECKPOINT_NAME_LAST = "last-{epoch}"


@pytest.mark.parametrize(("insert", "expected"), [(True, "last-epoch=1.ckpt"), (False, "last-1.ckpt")])
def test_last_name_template_is_filled_like_other_names(tmp_path, insert, expected):
    ckpt = _LastWithEpoch(dirpath=tmp_path, filename="best", save_last=True, auto_insert_metric_name=insert)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, logger=False, callbacks=[ckpt],
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(TinyLinear())
    assert ckpt.last_model_path == os.path.join(str(tmp_path), expected)
    assert sorted(os.listdir(tmp_path)) == sorted(["best.ckpt", expected])


def test_plain_last_name_is_unchanged(tmp_path):
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_last=True)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, logger=False, callbacks=[ckpt],
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(TinyLinear())
    assert os.path.basename(ckpt.last_model_path) == "last.ckpt"
