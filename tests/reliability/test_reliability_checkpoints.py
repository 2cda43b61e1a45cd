"""Checkpoints survive a kill (matrix rows 10-11): atomic saves, and resume after SIGKILL equals no kill."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import torch

import trainer_core as pl
from trainer_core.callbacks import ModelCheckpoint
from trainer_core.runner import RunSpec, execute
from trainer_core.trainer.checkpoint_io import load_checkpoint_file

SCRIPTS = Path(__file__).resolve().parent / "scripts"


def test_kill_while_writing_leaves_the_previous_checkpoint_intact(tmp_path: Path) -> None:
    kill_during = 2
    target = tmp_path / "model.ckpt"
    proc = subprocess.Popen([sys.executable, str(SCRIPTS / "save_forever.py"), str(target)],
                            stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.strip() == f"writing {kill_during}":
                proc.send_signal(signal.SIGKILL)  # in the middle of save number `kill_during`
                break
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
    assert proc.returncode == -signal.SIGKILL
    state = load_checkpoint_file(target)  # the complete previous save, never a torn one
    assert state["n"] in (kill_during - 1, kill_during)
    assert torch.equal(state["state_dict"]["w"], torch.full((4_000_000,), float(state["n"])))
    assert [p.name for p in tmp_path.glob("*.ckpt")] == ["model.ckpt"]  # temp files never carry .ckpt


class StartCounters(pl.Callback):
    def __init__(self) -> None:
        self.at_start: tuple[int, int] | None = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self.at_start = (trainer.current_epoch, trainer.global_step)


def _spec(faulty: str, root: Path, ckpt_dir: Path, **init_args: Any) -> RunSpec:
    return RunSpec(mode="fit", model_script=faulty, model_init_args=init_args, seed=0,
                   trainer_flags={"default_root_dir": str(root), "max_epochs": 2, "enable_progress_bar": False,
                                  "enable_model_summary": False, "num_sanity_val_steps": 0,
                                  "callbacks": [ModelCheckpoint(dirpath=str(ckpt_dir), save_last=True,
                                                                every_n_train_steps=1)]})


def test_resume_from_last_after_sigkill_matches_an_uninterrupted_run(faulty: str, tmp_path: Path) -> None:
    ckpt_dir = tmp_path / "killed" / "ckpts"
    child = textwrap.dedent(f"""
        from pathlib import Path
        from trainer_core.callbacks import ModelCheckpoint
        from trainer_core.runner import RunSpec, execute
        execute(RunSpec(mode="fit", model_script={faulty!r}, model_init_args={{"kill_at": 11}}, seed=0,
                        trainer_flags={{"default_root_dir": {str(tmp_path / "killed")!r}, "max_epochs": 2,
                                        "enable_progress_bar": False, "enable_model_summary": False,
                                        "num_sanity_val_steps": 0,
                                        "callbacks": [ModelCheckpoint(dirpath={str(ckpt_dir)!r}, save_last=True,
                                                                      every_n_train_steps=1)]}}))
    """)
    killed = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    last = ckpt_dir / "last.ckpt"
    saved = load_checkpoint_file(last)
    assert (saved["epoch"], saved["global_step"]) == (1, 11)

    counters = StartCounters()
    spec = _spec(faulty, tmp_path / "resumed", tmp_path / "resumed" / "ckpts")
    spec.ckpt_path = str(last)
    resumed = execute(spec, callbacks=[counters])
    assert counters.at_start == (1, 11)  # continues mid-epoch 1 at step 11, not from the start of an epoch

    reference = execute(_spec(faulty, tmp_path / "straight", tmp_path / "straight" / "ckpts"))
    final = {name: load_checkpoint_file(Path(r.last_checkpoint)) for name, r in (("resumed", resumed),
                                                                               ("straight", reference))}
    assert final["resumed"]["global_step"] == final["straight"]["global_step"] == 16
    assert final["resumed"]["epoch"] == final["straight"]["epoch"]
    for key, value in final["straight"]["state_dict"].items():
        assert torch.equal(final["resumed"]["state_dict"][key], value), key
