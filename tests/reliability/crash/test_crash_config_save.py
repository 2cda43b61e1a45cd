"""The studio's Save config killed with SIGKILL at any moment: the file on disk is the old save or the new one.

A child process saves a run config (``RunConfig.save``, what File > Save config calls) over and over; it is killed at
exact moments (half-way through the bytes, just before the rename) and at random ones. The file left is always
a complete save: it reads back as a config whose ``n`` and alternating A/B blob agree and are whole.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.models.config import RunConfig
from tests.reliability.fuzz.fuzzing import is_long

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parents[3]
CHILD = Path(__file__).resolve().parent / "scripts" / "save_config_child.py"
SIZE = 20_000


def _start(path: Path, *moment: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(CHILD), str(path), str(SIZE), *moment], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)


def _saves_until(child: subprocess.Popen[str], count: int) -> int:
    """Read the child's acknowledgements until ``count`` saves are done (or it died); the last one acknowledged."""
    assert child.stdout is not None
    last = -1
    while last < count - 1:
        line = child.stdout.readline()
        if not line:
            break
        last = int(line.split()[1])
    return last


def _saved_number(path: Path) -> int:
    """The save number the file holds, after checking it is one whole save."""
    config = RunConfig.load(path)  # what File > Open config does
    n = config.model_init_args["n"]
    assert config.model_init_args["blob"] == "AB"[n % 2] * SIZE, "a torn or mixed save"
    assert config.trainer_flags == {"max_epochs": n + 1}
    return n


@pytest.mark.parametrize("moment", ["mid-write", "before-rename"])
def test_a_kill_during_a_save_leaves_the_previous_save_whole(tmp_path: Path, moment: str) -> None:
    path = tmp_path / "run.yaml"
    child = _start(path, moment, "3")
    assert _saves_until(child, 10) == 2  # saves 0-2 done, save 3 killed itself
    assert child.wait(timeout=60) == -signal.SIGKILL
    assert _saved_number(path) == 2
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == ["run.yaml"]


def test_kills_at_random_moments_never_leave_a_torn_config(tmp_path: Path) -> None:
    rounds = 60 if is_long() else 6
    chooser = random.Random()
    for round_number in range(rounds):
        path = tmp_path / f"round-{round_number}" / "run.yaml"
        path.parent.mkdir()
        child = _start(path)
        acknowledged = _saves_until(child, chooser.randint(1, 4))
        # Not a wait for anything: a random delay of up to about two saves picks the moment, so the kill lands
        # anywhere in a save (formatting the YAML, writing, flushing, renaming) over the rounds.
        time.sleep(chooser.uniform(0, 0.1))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        assert child.stdout is not None
        child.stdout.close()
        assert _saved_number(path) >= acknowledged  # a whole save, and none acknowledged before the kill is lost
