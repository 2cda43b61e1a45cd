"""Wheel and sdist carry the resources; the PyInstaller spec keeps torch out of the GUI bundle.

The builds run without isolation (no download) on a copy of the tree, in about a second each. The full check -
``python -m build``, install into a clean venv, run ``trainer-core --help`` - is ``packaging/check_dist.sh``; the
slow test at the end runs it (``pytest -m slow tests/packaging``).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESOURCE_FILES = [
    "resources/__init__.py",
    "resources/icons/app.svg",
    "resources/icons/app-16.png",
    "resources/icons/app-512.png",
    "resources/themes/light.qss",
    "resources/themes/dark.qss",
    "resources/themes/check.svg",
    "resources/examples/mlp_classifier.py",
    "resources/examples/mlp_classifier.yaml",
    "resources/examples/lstm_tbptt.py",
    "resources/examples/gan.py",
    "resources/examples/cnn_images.py",
    "resources/examples/autoencoder.py",
    "resources/examples/datamodule_example.py",
    "resources/examples/data/machine_health.csv",
    "resources/templates/new_project.py",
]


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """The buildable part of the tree, copied so builds never write build/ or *.egg-info into the checkout."""
    dest = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for package in ("trainer_core", "studio", "resources"):
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)
    return dest


def _run(cmd: list[str], cwd: Path) -> None:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"


def test_wheel_contains_the_resources(source_copy, tmp_path):
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
          str(source_copy)], cwd=tmp_path)
    (wheel,) = tmp_path.glob("training_studio-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in RESOURCE_FILES if f not in names]
    assert not missing, f"the wheel lacks {missing}"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "trainer-core = trainer_core.cli:main" in text
    assert "training-studio = studio.app:main" in text


def test_sdist_contains_the_resources(source_copy, tmp_path):
    pytest.importorskip("build", reason="the `build` package is in the `package` extra: pip install -e '.[package]'")
    _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "--skip-dependency-check", "-o", str(tmp_path),
          str(source_copy)], cwd=tmp_path)
    (sdist,) = tmp_path.glob("training_studio-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    missing = [f for f in RESOURCE_FILES if f not in names]
    assert not missing, f"the sdist lacks {missing}"


def test_pyinstaller_spec_keeps_torch_and_the_engine_out():
    spec = (ROOT / "packaging" / "pyinstaller" / "training-studio.spec").read_text()
    tree = ast.parse(spec)  # the spec is Python: a syntax error fails here
    excludes = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    and any(getattr(t, "id", None) == "excludes" for t in node.targets))
    names = {elt.value for elt in excludes.elts}
    assert {"torch", "trainer_core", "tensorboard"} <= names
    assert "launch_studio.py" in spec
    launcher = (ROOT / "packaging" / "pyinstaller" / "launch_studio.py").read_text()
    body = launcher.split('if __name__ == "__main__":', 1)[1]
    assert body.strip().startswith("multiprocessing.freeze_support()"), "freeze_support() must come first"


@pytest.mark.slow
def test_full_build_installs_into_a_clean_venv(tmp_path):
    """python -m build (isolated), then a fresh venv installs the wheel and its console scripts run (minutes)."""
    out = subprocess.run(["bash", str(ROOT / "packaging" / "check_dist.sh"), str(tmp_path)], capture_output=True,
                         text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "check_dist: OK" in out.stdout


@pytest.mark.slow
def test_pyinstaller_build_starts_and_trains(tmp_path):
    """packaging/build.sh: freeze the GUI (about a minute), start it offscreen, train through the bundled engine."""
    pytest.importorskip("PyInstaller", reason="PyInstaller is in the `package` extra: pip install -e '.[package]'")
    env = dict(os.environ, DIST_DIR=str(tmp_path / "dist"), WORK_DIR=str(tmp_path / "work"),
               PYTHON=sys.executable)
    out = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    assert "smoke test passed" in out.stdout and "external interpreter passed" in out.stdout
