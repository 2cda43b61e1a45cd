"""Disk full in the middle of a checkpoint (a small tmpfs): the previous checkpoint is intact and the error names
the disk. Mounting needs root; elsewhere the tests skip with the reason."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.callbacks import ModelCheckpoint
from trainer_core.trainer.checkpoint_io import CheckpointError, load_checkpoint_file

pytestmark = pytest.mark.fuzz


class WideModel(BoringModel):
    """A BoringModel with ~260 KB of weights: one checkpoint fits a 512 KB disk, two do not."""

    def __init__(self) -> None:
        super().__init__(length=4)
        self.extra = torch.nn.Parameter(torch.zeros(64_000), requires_grad=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command: the disk-full test needs a small tmpfs")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)


def _trainer(root: Path, **flags: object) -> pl.Trainer:
    return pl.Trainer(default_root_dir=str(root), max_epochs=1, limit_val_batches=0, num_sanity_val_steps=0,
                      enable_progress_bar=False, enable_model_summary=False, logger=False, **flags)


def test_a_full_disk_keeps_the_previous_checkpoint_and_names_the_disk(small_disk: Path, tmp_path: Path) -> None:
    trainer = _trainer(tmp_path, enable_checkpointing=False)
    model = WideModel()
    trainer.fit(model)
    target = small_disk / "model.ckpt"
    trainer.save_checkpoint(str(target))
    before = target.read_bytes()
    model.extra.data += 1  # the next save differs, and needs room for a second copy while the first exists
    with pytest.raises(CheckpointError) as info:
        trainer.save_checkpoint(str(target))
    message = str(info.value)
    assert str(small_disk) in message and "full" in message and "unchanged" in message
    assert target.read_bytes() == before
    assert torch.equal(load_checkpoint_file(target)["state_dict"]["extra"], torch.zeros(64_000))
    assert [p.name for p in small_disk.iterdir()] == ["model.ckpt"]  # the partial temporary file is gone


def test_a_fit_whose_checkpoint_disk_fills_stops_with_the_disk_named(small_disk: Path, tmp_path: Path) -> None:
    checkpoint = ModelCheckpoint(dirpath=str(small_disk), save_top_k=-1, every_n_train_steps=1)
    with pytest.raises(CheckpointError, match="full") as info:
        _trainer(tmp_path, callbacks=[checkpoint]).fit(WideModel())
    assert str(small_disk) in str(info.value)
    for path in small_disk.glob("*.ckpt"):
        load_checkpoint_file(path)  # every checkpoint that was written is whole
