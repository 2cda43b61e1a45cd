"""The run folder cannot be written (matrix row 13): a clear error naming the path; what was saved stays.

Tests run as root here, so a read-only folder would still be writable: the faults are made with a file where a
folder must go (run folder) and a folder where metrics.csv must go (the logger's save fails mid-run, like a full
disk would).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trainer_core.loggers import CSVLogger
from trainer_core.runner import RunSpec, execute
from trainer_core.trainer.checkpoint_io import load_checkpoint_file

FLAGS = {"max_epochs": 2, "enable_progress_bar": False, "enable_model_summary": False, "log_every_n_steps": 1}


def test_unwritable_run_folder_fails_before_training_naming_the_path(faulty: str, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the run folder should go")
    spec = RunSpec(mode="fit", model_script=faulty, trainer_flags={**FLAGS, "default_root_dir": str(blocker / "runs")})
    with pytest.raises(OSError) as error:
        execute(spec)
    assert str(blocker) in str(error.value)
    assert blocker.read_text() == "a file where the run folder should go"


def test_logger_that_cannot_write_mid_run_stops_with_the_path_and_keeps_checkpoints(faulty: str,
                                                                                    tmp_path: Path) -> None:
    run = tmp_path / "lightning_logs" / "version_0"
    (run / "metrics.csv").mkdir(parents=True)  # the metrics file cannot be replaced: every save fails
    spec = RunSpec(mode="fit", model_script=faulty,
                   trainer_flags={**FLAGS, "default_root_dir": str(tmp_path),
                                  "logger": CSVLogger(str(tmp_path), version=0)})
    with pytest.raises(OSError) as error:
        execute(spec)
    assert "metrics.csv" in str(error.value)
    assert "default_root_dir to a writable folder" in str(error.value)
    # The first epoch's checkpoint (saved before the logger's first save at the epoch end) is intact.
    ckpt = run / "checkpoints" / "epoch=0-step=8.ckpt"
    assert load_checkpoint_file(ckpt)["global_step"] == 8
    # The event stream, written separately, has every step's metrics and the failure.
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    steps = {e["step"] for e in events if e["type"] == "metrics" and "train_loss" in e["metrics"]}
    assert set(range(8)) <= steps
    assert [e["status"] for e in events if e["type"] == "stage_finished"] == ["failed"]
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]  # no half-written temp files left
