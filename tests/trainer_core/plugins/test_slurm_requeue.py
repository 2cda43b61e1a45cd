"""SLURMEnvironment(auto_requeue=True): SIGUSR1 saves hpc_ckpt_1.ckpt and runs `scontrol requeue JOB`; the
requeued job resumes from that checkpoint. Real processes and a real signal; `scontrol` is a stand-in script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from trainer_core.plugins.environments import SLURMEnvironment
from trainer_core.strategies.slurm_requeue import latest_hpc_checkpoint, requeue_callback

SCRIPT = Path(__file__).parent / "scripts" / "slurm_job.py"
REPO = Path(__file__).resolve().parents[3]


def slurm_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    scontrol = bin_dir / "scontrol"
    scontrol.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'scontrol.log'}\n")
    scontrol.chmod(0o755)
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "SLURM_JOB_ID": "4242", "SLURM_NTASKS": "1", "SLURM_PROCID": "0", "SLURM_LOCALID": "0",
            "SLURM_NODEID": "0", "SLURM_JOB_NAME": "train"}


def wait_for(condition: object, what: str, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_sigusr1_saves_requeues_and_the_requeued_job_resumes(tmp_path: Path) -> None:
    env = slurm_env(tmp_path)
    root = tmp_path / "run"
    root.mkdir()
    first = subprocess.Popen([sys.executable, str(SCRIPT), str(root), "50", "first"], env=env, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: (root / "training").exists() or first.poll() is not None, "the job to start training")
        assert first.poll() is None, first.communicate()[1]
        first.send_signal(signal.SIGUSR1)
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert (tmp_path / "scontrol.log").read_text().split() == ["requeue", "4242"]
    saved = torch.load(root / "hpc_ckpt_1.ckpt", weights_only=False)
    assert saved["global_step"] >= 2

    second = subprocess.run([sys.executable, str(SCRIPT), str(root), "6", "requeued"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert f"resumed={root / 'hpc_ckpt_1.ckpt'} step=6" in second.stdout


def test_requeue_is_off_outside_slurm_or_when_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SLURM_NTASKS", "SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_JOB_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert requeue_callback(None) is None
    assert requeue_callback([SLURMEnvironment(auto_requeue=False)]) is None
    assert requeue_callback([SLURMEnvironment()]) is not None
    (tmp_path / "hpc_ckpt_2.ckpt").write_bytes(b"")
    (tmp_path / "hpc_ckpt_10.ckpt").write_bytes(b"")
    assert latest_hpc_checkpoint(str(tmp_path)) == str(tmp_path / "hpc_ckpt_10.ckpt")
