"""An exception in the user's code: run failed, user's line named, nothing produced so far lost (matrix row 6).

Also NaN/inf handling through the run API (row 7; the flag's own messages are in tests/trainer_core).
"""

from __future__ import annotations

import csv
import json
import traceback
from pathlib import Path
from typing import Any

import pytest

import trainer_core as pl
from trainer_core.runner import RunSpec, execute
from trainer_core.trainer.checkpoint_io import load_checkpoint_file


class Watch(pl.Callback):
    """Records on_exception calls; optionally raises in on_train_batch_end at a global step."""

    def __init__(self, raise_at: int = -1) -> None:
        self.raise_at = raise_at
        self.exceptions: list[BaseException] = []
        self.status: str | None = None

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        if trainer.global_step == self.raise_at:
            raise RuntimeError(f"callback failed at step {trainer.global_step}")

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        self.exceptions.append(exception)
        self.status = trainer.state.status


def _fault_line(script: str, marker: str) -> int:
    lines = Path(script).read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if marker in text)


def _events(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]


CASES = {
    # name: (model init args, callback raise step, marker in the script or None, first bad step)
    "training_step": ({"fail_in": "training_step", "fail_at": 11}, -1, "FAULT LINE training_step", 11),
    "validation_step": ({"fail_in": "validation_step", "fail_at": 16}, -1, "FAULT LINE validation_step", 16),
    "callback": ({}, 11, None, 11),
}


@pytest.mark.parametrize("case", list(CASES))
def test_exception_in_user_code_keeps_what_was_produced(case: str, faulty: str, tmp_path: Path) -> None:
    init_args, raise_at, marker, bad_step = CASES[case]
    watch = Watch(raise_at)
    spec = RunSpec(mode="fit", model_script=faulty, model_init_args=init_args,
                   trainer_flags={"default_root_dir": str(tmp_path), "max_epochs": 3, "log_every_n_steps": 1,
                                  "enable_progress_bar": False, "enable_model_summary": False})
    with pytest.raises((ValueError, RuntimeError)) as error:
        execute(spec, callbacks=[watch])
    # The traceback points at the user's line (or the callback's).
    frames = traceback.extract_tb(error.value.__traceback__)
    if marker:
        line = _fault_line(faulty, marker)
        assert any(f.filename == faulty and f.lineno == line for f in frames), frames
    else:
        assert frames[-1].name == "on_train_batch_end" and frames[-1].filename == __file__
    # on_exception fired once, with the error, while the trainer said "failed".
    assert watch.exceptions == [error.value] and watch.status == "failed"
    run = tmp_path / "lightning_logs" / "version_0"
    # Metrics logged before the fault are on disk: metrics.csv rows and events.jsonl metrics events.
    with open(run / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    steps = {int(r["step"]) for r in rows if r.get("train_loss")}
    assert set(range(bad_step - 1)) <= steps, sorted(steps)
    events = _events(run)
    logged = {e["step"] for e in events if e["type"] == "metrics" and "train_loss" in e["metrics"]}
    assert set(range(bad_step - 1)) <= logged
    stages = [e for e in events if e["type"] == "stage_finished"]
    assert stages and stages[-1]["status"] == "failed"
    failure = [e for e in events if e["type"] == "exception"]
    assert len(failure) == 1 and failure[0]["exc_type"] in ("ValueError", "RuntimeError")
    if marker:
        assert failure[0]["user_frame"]["file"] == faulty and failure[0]["user_frame"]["line"] == line
    # The last good checkpoint (end of epoch 0, step 8) is intact and loads.
    ckpts = sorted((run / "checkpoints").glob("*.ckpt"))
    assert [c.name for c in ckpts] == ["epoch=0-step=8.ckpt"], ckpts
    state = load_checkpoint_file(ckpts[0])
    assert state["global_step"] == 8 and state["epoch"] == 0
    assert not list((run / "checkpoints").glob("*.tmp"))


def test_nan_loss_with_terminate_on_nan_names_the_step(faulty: str, tmp_path: Path) -> None:
    from trainer_core.exceptions import MisconfigurationError

    spec = RunSpec(mode="fit", model_script=faulty, model_init_args={"nan_at": 5},
                   trainer_flags={"default_root_dir": str(tmp_path), "max_epochs": 2, "terminate_on_nan": True,
                                  "enable_progress_bar": False, "enable_model_summary": False})
    with pytest.raises((ValueError, MisconfigurationError, RuntimeError)) as error:
        execute(spec)
    # global_step counts finished optimizer steps (the NaN batch has stepped), like the checkpoint names.
    message = str(error.value)
    assert "is nan at epoch 0, batch 5 (global_step=6, after this batch's optimizer step)" in message, message


def test_early_stopping_check_finite_stops_and_names_the_metric(faulty: str, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    from trainer_core.callbacks import EarlyStopping

    caplog.set_level("INFO")
    stopper = EarlyStopping(monitor="train_loss", check_finite=True, check_on_train_epoch_end=True, verbose=True)
    spec = RunSpec(mode="fit", model_script=faulty, model_init_args={"nan_at": 9},
                   trainer_flags={"default_root_dir": str(tmp_path), "max_epochs": 5, "callbacks": [stopper],
                                  "enable_progress_bar": False, "enable_model_summary": False})
    result = execute(spec)
    assert stopper.stopped_epoch == 1  # the first epoch whose mean loss is NaN
    events = _events(Path(result.log_dir))
    finished = [e for e in events if e["type"] == "epoch_finished" and e["stage"] == "train"]
    assert len(finished) == 2
    assert "Monitored metric train_loss = nan is not finite" in caplog.text
