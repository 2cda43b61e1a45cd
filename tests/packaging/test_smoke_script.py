"""packaging/smoke_test.py judges a start-up correctly: the studio's --self-test, a crash, an app that stays up."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import smoke_test  # noqa: E402


def test_the_real_studio_passes_its_self_test_offscreen():
    passed, why = smoke_test.run_app([sys.executable, "-m", "studio"], seconds=90)
    assert passed, why
    assert "studio self-test: window visible after" in why


def test_an_app_that_crashes_fails_with_its_output():
    passed, why = smoke_test.run_app([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], seconds=30)
    assert not passed
    assert "status 3" in why and "boom" in why


def test_an_app_that_exits_0_without_the_ready_line_fails():
    passed, why = smoke_test.run_app([sys.executable, "-c", "print('hello')"], seconds=30)
    assert not passed
    assert "status 0" in why and "without the ready line" in why


def test_an_app_that_stays_up_passes_and_is_stopped():
    # The fake app waits forever; run_app waits on its exit with a timeout, then terminates it.
    passed, why = smoke_test.run_app([sys.executable, "-c", "import threading; threading.Event().wait()"], seconds=1)
    assert passed
    assert "stayed up for 1 s" in why


def test_check_bundle_lists_what_is_missing(tmp_path):
    problems = smoke_test.check_bundle(tmp_path)
    assert any("build the app first with packaging/build.sh" in p for p in problems)
    assert any("resources/icons/app.svg" in p for p in problems)
    (tmp_path / "_internal" / "torch").mkdir(parents=True)
    assert any("contains torch/" in p for p in smoke_test.check_bundle(tmp_path))


def test_an_external_interpreter_trains_with_a_bundle_layout(tmp_path):
    # The layout PyInstaller produces, without building: _internal/engine-src/{trainer_core,studio} + resources.
    internal = tmp_path / "app" / "_internal"
    (internal / "engine-src").mkdir(parents=True)
    for package in ("trainer_core", "studio"):
        (internal / "engine-src" / package).symlink_to(ROOT / package, target_is_directory=True)
    (internal / "resources").symlink_to(ROOT / "resources", target_is_directory=True)
    work = tmp_path / "work"
    work.mkdir()
    passed, why = smoke_test.train_with_external_python(tmp_path / "app", sys.executable, work)
    assert passed, why
    assert list(work.glob("lightning_logs/version_0/metrics.csv"))
