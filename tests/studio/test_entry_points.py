"""``python -m studio --self-test`` opens the window on the bundled example and exits 0 (packaging smoke test)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_python_m_studio_self_test(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TRAINING_STUDIO_SETTINGS": str(tmp_path / "s.ini"),
           "TRAINING_STUDIO_RUNS_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "studio", "--self-test"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "studio self-test: window visible after" in done.stdout and "plots ready after" in done.stdout


def test_gui_script_entry_point_is_declared():
    from importlib.metadata import entry_points

    scripts = {e.name: e.value for e in entry_points(group="gui_scripts")}
    assert scripts.get("training-studio") == "studio.app:main"


def test_bad_arguments_exit_with_usage(tmp_path):
    done = subprocess.run([sys.executable, "-m", "studio", "--theme", "purple"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 2 and "invalid choice" in done.stderr
