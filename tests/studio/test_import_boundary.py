"""The GUI process never imports torch or trainer_core (training lives in a child process), in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys

# Child-side modules: they run in the training process and may import trainer_core.
CHILD_ONLY = {"studio.worker.stop", "studio.worker.runner", "studio.worker.schema"}

PROGRAM = r"""
import json, os, pkgutil, sys, importlib
os.environ["QT_QPA_PLATFORM"] = "offscreen"
import studio
names = sorted(m.name for m in pkgutil.walk_packages(studio.__path__, "studio.") if m.name not in CHILD_ONLY)
for name in names:
    importlib.import_module(name)
from PySide6.QtWidgets import QApplication
app = QApplication([])
from studio.app import create_window
window = create_window()
window.show()
app.processEvents()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "trainer_core", "lightning"))
print(json.dumps({"modules": names, "heavy": heavy, "script": window.project.script_info.path}))
window.close()
"""


def test_gui_never_imports_torch_or_trainer_core(tmp_path):
    code = f"CHILD_ONLY = {sorted(CHILD_ONLY)!r}\n" + PROGRAM
    env_settings = {"TRAINING_STUDIO_SETTINGS": str(tmp_path / "s.ini"), "TRAINING_STUDIO_RUNS_DIR": str(tmp_path)}
    import os

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env_settings})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert "studio.qt.main_window" in report["modules"] and "studio.worker.entry" in report["modules"]
    assert report["script"].endswith("mlp_classifier.py")
