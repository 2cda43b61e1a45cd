"""./dev.sh studio checks the system libraries of Qt's X11 window and prints the one command that installs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux's X11 window")


def _check(tmp_path: Path, listed: list[str]) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "bin"
    fake.mkdir()
    lines = "".join(f"\\t{name} (libc6,x86-64) => /usr/lib/{name}\\n" for name in listed)
    (fake / "ldconfig").write_text(f"#!/bin/sh\nprintf '{lines}'\n")
    (fake / "ldconfig").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "QT_QPA_PLATFORM": "xcb"}
    return subprocess.run(["bash", str(ROOT / "dev.sh"), "check-system"], env=env, capture_output=True, text=True,
                          timeout=60)


def test_missing_xcb_libraries_are_named_with_one_install_command(tmp_path):
    done = _check(tmp_path, ["libEGL.so.1", "libGL.so.1", "libxcb-cursor.so.0"])
    assert done.returncode == 1
    command = [line for line in done.stderr.splitlines() if "apt-get install" in line]
    assert len(command) == 1
    for package in ("libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0", "libxkbcommon-x11-0"):
        assert package in command[0]
    assert "libxcb-cursor0" not in command[0] and "libegl1" not in command[0]


def test_nothing_is_asked_for_when_every_library_is_there(tmp_path):
    names = ["libEGL.so.1", "libGL.so.1", "libfontconfig.so.1", "libdbus-1.so.3", "libxkbcommon-x11.so.0",
             "libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-image.so.0", "libxcb-keysyms.so.1",
             "libxcb-randr.so.0", "libxcb-render-util.so.0", "libxcb-shape.so.0", "libxcb-xinerama.so.0",
             "libxcb-xkb.so.1"]
    done = _check(tmp_path, names)
    assert done.returncode == 0 and "apt-get" not in done.stderr


def test_the_readme_lists_the_packages_dev_sh_checks():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\b(lib[a-z0-9-]+\d)\b", readme.split("### System packages", 1)[1].split("```", 2)[1]))
    checked = set(re.findall(r'"(lib[a-z0-9-]+) lib', (ROOT / "dev.sh").read_text(encoding="utf-8")))
    assert checked and listed == checked
