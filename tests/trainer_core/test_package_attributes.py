"""1.x scripts reach submodules through the package without importing them: `pl.callbacks.ModelCheckpoint`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_submodules_are_attributes_of_a_fresh_import() -> None:
    code = ("import trainer_core as pl\n"
            "print(pl.callbacks.ModelCheckpoint.__name__, pl.loggers.TensorBoardLogger.__name__,\n"
            "      pl.profiler.SimpleProfiler.__name__, pl.profilers.AdvancedProfiler.__name__,\n"
            "      pl.plugins.DDPPlugin.__name__, pl.tuner.Tuner.__name__)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[:3] == ["ModelCheckpoint", "TensorBoardLogger", "SimpleProfiler"]
