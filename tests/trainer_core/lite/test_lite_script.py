"""A script written like Lightning 1.5's LightningLite examples runs with trainer_core: in one process, under
ddp_spawn (workers spawned) and under ddp (the script re-run per rank), 2 gloo processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).parent / "scripts" / "lite_classifier.py"
REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("strategy", "devices", "world"), [
    (None, 1, 1),
    # two processes on 2 shared cores take 30-45 s each: run on demand (the in-process ddp_spawn test runs always)
    pytest.param("ddp_spawn", 2, 2, marks=pytest.mark.slow),
    pytest.param("ddp", 2, 2, marks=pytest.mark.slow),
])
def test_lite_example_script_runs(strategy: str | None, devices: int, world: int, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    args = [sys.executable, str(SCRIPT), "--epochs", "2", "--devices", str(devices), "--save-model"]
    if strategy:
        args += ["--strategy", strategy]
    done = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and all(line.endswith(f"world size {world}") for line in lines)  # printed by rank 0 only
    assert (tmp_path / "lite_classifier.pt").is_file()
