"""Crash consistency: a fit killed with SIGKILL at any moment leaves a run folder the studio opens, checkpoints that
all load, an events.jsonl complete up to its last flushed line, and a newest checkpoint that resumes to the same
weights as a run never interrupted.

The moments are exact where it matters (half-way through a checkpoint's bytes, before an atomic rename, half-way
through an events line or an hparams.yaml write: see scripts/crash_child.py) and random elsewhere (a kill after a
random delay lands anywhere, the exit included). The default run kills once per moment and resumes once; the long
loop (``-m fuzz``, also marked slow) kills and resumes many times.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from studio.models.dashboards.history import load_run, scan_runs
from studio.protocol.stream import read_events_file
from tests.reliability.fuzz.fuzzing import is_long
from trainer_core.loggers.hparams_io import load_hparams_from_yaml
from trainer_core.trainer.checkpoint_io import load_checkpoint_file

pytestmark = pytest.mark.fuzz

CHILD = Path(__file__).resolve().parent / "scripts" / "crash_child.py"
REPO = Path(__file__).resolve().parents[3]
PHASES = ("checkpoint", "replace", "events", "hparams")
# Occurrences per run of the child (3 epochs x 8 steps): one per checkpoint save, two renames per save plus the
# hparams writes, an events line per step and stage, hparams.yaml once or twice.
MAX_NTH = {"checkpoint": 48, "replace": 50, "events": 60, "hparams": 2}


@pytest.fixture
def crash_root(tmp_path: Path) -> Iterator[Path]:
    """A folder in RAM when there is one: thousands of fsyncs on a busy disk would make the loop crawl."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else str(tmp_path)
    folder = Path(tempfile.mkdtemp(prefix="crash-", dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _run_child(root: Path, phase: str, nth: int, ckpt: Path | None = None, kill_after: float | None = None
               ) -> subprocess.CompletedProcess[str] | int:
    args = [sys.executable, str(CHILD), str(root), phase, str(nth)] + ([str(ckpt)] if ckpt else [])
    if kill_after is None:
        return subprocess.run(args, capture_output=True, text=True, timeout=240, cwd=REPO)
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        proc.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    return proc.wait(timeout=60)


def check_run_folder(root: Path) -> Path | None:
    """Everything a killed run left is readable; returns its newest checkpoint (None when none was written)."""
    checkpoints = sorted(root.rglob("*.ckpt"))
    steps = {}
    for path in checkpoints:
        steps[path] = load_checkpoint_file(path)["global_step"]  # the atomic write holds: no torn .ckpt
    for path in root.rglob("hparams.yaml"):
        assert isinstance(load_hparams_from_yaml(str(path)), dict)
    for path in root.rglob("events.jsonl"):
        read = read_events_file(path)
        lines = [line for line in path.read_text(encoding="utf-8", errors="replace").split("\n") if line.strip()]
        # Only the last line can be torn, and every event before it is there, in order, without gaps.
        assert read.skipped == 0 or (read.skipped == 1 and read.first_skipped_line == len(lines)), path
        seqs = [event["seq"] for event in read.events if "seq" in event]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, path
    runs = scan_runs(root)
    assert all(run.status != "unreadable" for run in runs), [(r.path, r.mode) for r in runs]
    for run in runs:
        load_run(run.path)  # the studio's replay of the folder
    if not steps:
        return None
    last = root / "checkpoints" / "last.ckpt"
    return last if last in steps else max(steps, key=steps.__getitem__)


@pytest.fixture(scope="module")
def reference_weights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, torch.Tensor]:
    root = tmp_path_factory.mktemp("reference")
    done = _run_child(root, "none", 0)
    assert isinstance(done, subprocess.CompletedProcess) and done.returncode == 0, done
    return torch.load(root / "final.pt", weights_only=True)


def _assert_resume_matches(root: Path, newest: Path | None, reference: dict[str, torch.Tensor]) -> None:
    resumed = root.parent / (root.name + "-resumed")
    done = _run_child(resumed, "none", 0, ckpt=newest)
    assert isinstance(done, subprocess.CompletedProcess) and done.returncode == 0, done.stderr[-3000:]
    final = torch.load(resumed / "final.pt", weights_only=True)
    for key, value in reference.items():
        assert torch.equal(final[key], value), f"resumed from {newest}: {key} differs from the uninterrupted run"
    shutil.rmtree(resumed, ignore_errors=True)


@pytest.mark.parametrize("phase", PHASES)
def test_a_kill_in_the_middle_of_each_write_leaves_a_consistent_folder(crash_root: Path, phase: str) -> None:
    nth = {"checkpoint": 5, "replace": 6, "events": 9, "hparams": 1}[phase]
    done = _run_child(crash_root, phase, nth)
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    check_run_folder(crash_root)


def test_resuming_after_a_kill_mid_checkpoint_matches_the_uninterrupted_run(
        crash_root: Path, reference_weights: dict[str, torch.Tensor]) -> None:
    done = _run_child(crash_root, "checkpoint", 11)
    assert isinstance(done, subprocess.CompletedProcess) and done.returncode == -signal.SIGKILL
    newest = check_run_folder(crash_root)
    assert newest is not None
    _assert_resume_matches(crash_root, newest, reference_weights)


@pytest.mark.slow
def test_many_kills_at_random_moments(crash_root: Path, reference_weights: dict[str, torch.Tensor]) -> None:
    """The long loop: random moments (exact phases and random delays), each followed by a resume."""
    rounds = 30 if is_long() else 4
    rng = random.Random(os.environ.get("CRASH_SEED", time.time_ns()))
    for i in range(rounds):
        root = crash_root / f"round-{i}"
        if rng.random() < 0.3:
            _run_child(root, "none", 0, kill_after=rng.uniform(2.0, 12.0))  # anywhere, the exit included
        else:
            phase = rng.choice(PHASES)
            _run_child(root, phase, rng.randint(1, MAX_NTH[phase]))
        newest = check_run_folder(root)
        _assert_resume_matches(root, newest, reference_weights)
        shutil.rmtree(root, ignore_errors=True)
