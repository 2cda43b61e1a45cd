"""A script in Lightning 1.5's style runs unchanged but for its import (issue: 1.5 scripts must run as written)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).resolve().parents[3]


def test_a_lightning15_style_script_runs_as_written(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(SCRIPTS / "lightning15_style.py"), str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1].startswith("ok ")
