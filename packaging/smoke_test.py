"""Start the built one-folder app offscreen and check that it comes up.

Usage: ``python packaging/smoke_test.py [dist/training-studio] [--seconds N]``

The app is started with ``--self-test`` (studio/app.py): it opens its main window on the bundled example, prints
``studio self-test: window visible after X s`` and exits 0. That must happen within ``--seconds``. If a future
studio keeps running instead, the app passes when it is still alive after ``--seconds`` (waited for with
``Popen.communicate(timeout=...)``, so a crash is reported at once), and is then terminated.
Any other exit (non-zero, or without the line) fails and prints the app's output.
It also checks the bundle holds no torch (the GUI must train through an external interpreter) and reports its size.
With ``--python PATH`` (an interpreter that has torch but need not have Training Studio installed) it also trains
the bundled default example with that interpreter, the bundle's ``engine-src`` on ``PYTHONPATH`` and the bundle's
copy of the example: the route the frozen app uses to train.
Exit status 0 means the app is fine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP_NAME = "training-studio"
SELF_TEST_FLAG = "--self-test"
READY_LINE = "studio self-test: window visible"


def folder_size(folder: Path) -> int:
    """Total size in bytes of the regular files below ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def check_bundle(app_dir: Path) -> list[str]:
    """Return the problems found in the bundle's layout (empty when fine)."""
    problems = []
    internal = app_dir / "_internal"
    if not (app_dir / APP_NAME).is_file():
        problems.append(f"{app_dir / APP_NAME} is missing: build the app first with packaging/build.sh.")
    for forbidden in ("torch", "trainer_core"):
        if (internal / forbidden).exists():
            problems.append(f"the bundle contains {forbidden}/; it must not (see packaging/pyinstaller/*.spec).")
    for needed in ("resources/icons/app.svg", "resources/themes/light.qss", "resources/examples/mlp_classifier.py",
                   "engine-src/trainer_core/__init__.py"):
        if not (internal / needed).exists():
            problems.append(f"the bundle lacks _internal/{needed}.")
    return problems


def run_app(command: list[str], seconds: float, env: dict[str, str] | None = None) -> tuple[bool, str]:
    """Start the app (``command`` + ``--self-test``) offscreen; return (passed, explanation)."""
    env = dict(os.environ if env is None else env, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([*command, SELF_TEST_FLAG], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        # Still running: the app ignored --self-test and is up. That is a pass; stop it politely, then firmly.
        proc.terminate()
        try:
            out, _ = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        return True, f"the app stayed up for {seconds:g} s (it did not exit on {SELF_TEST_FLAG})"
    ready = [line for line in out.splitlines() if READY_LINE in line]
    if proc.returncode == 0 and ready:
        return True, f"{ready[0].strip()} and exited 0"
    return False, (f"the app exited with status {proc.returncode} within {seconds:g} s without the ready line "
                   f"{READY_LINE!r}:\n{out}")


def train_with_external_python(app_dir: Path, python: str, work: Path) -> tuple[bool, str]:
    """Train the bundle's default example for 2 batches with ``python`` and the bundle's engine sources."""
    internal = app_dir.resolve() / "_internal"  # absolute: the commands run in another folder
    env = dict(os.environ, PYTHONPATH=str(internal / "engine-src"), OMP_NUM_THREADS="1")
    probe = subprocess.run([python, "-c", "import trainer_core, studio.worker.entry; print(trainer_core.__file__)"],
                           capture_output=True, text=True, env=env, cwd=work)
    if probe.returncode != 0:
        return False, f"{python} cannot import the bundled engine: {probe.stderr.strip()[-2000:]}"
    if not probe.stdout.strip().startswith(str(internal / "engine-src")):
        return False, f"{python} imported trainer_core from {probe.stdout.strip()}, not from the bundle"
    example = internal / "resources" / "examples" / "mlp_classifier.py"
    run = subprocess.run([python, "-m", "trainer_core", "fit", "--model", str(example), "--max_epochs", "1",
                          "--limit_train_batches", "2", "--limit_val_batches", "1", "--enable_progress_bar", "false",
                          "--default_root_dir", str(work)], capture_output=True, text=True, env=env, cwd=work,
                         timeout=300)
    metrics = list(work.glob("lightning_logs/version_*/metrics.csv"))
    if run.returncode != 0 or not metrics:
        return False, f"training with {python} failed (status {run.returncode}):\n{run.stderr[-3000:]}"
    return True, f"{python} trained the bundled example with the bundled engine ({metrics[0]})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app_dir", nargs="?", default=str(ROOT / "dist" / APP_NAME), help="the one-folder app")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the app must stay up (default 20)")
    parser.add_argument("--python", help="also train with this interpreter (has torch) and the bundled engine")
    args = parser.parse_args(argv)
    app_dir = Path(args.app_dir)
    problems = check_bundle(app_dir)
    if problems:
        print("smoke test FAILED:\n  " + "\n  ".join(problems))
        return 1
    passed, why = run_app([str(app_dir / APP_NAME)], args.seconds)
    size_mb = folder_size(app_dir) / 2**20
    print(f"smoke test {'passed' if passed else 'FAILED'}: {why}; bundle size {size_mb:.0f} MiB")
    if passed and args.python:
        with tempfile.TemporaryDirectory(prefix="studio-smoke-") as work:
            passed, why = train_with_external_python(app_dir, args.python, Path(work))
        print(f"external interpreter {'passed' if passed else 'FAILED'}: {why}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
