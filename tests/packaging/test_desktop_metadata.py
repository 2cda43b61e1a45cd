"""Linux desktop entry and AppStream metainfo: one app id everywhere, and the standard validators accept them."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # `resources` the package, not tests/resources (see tests/resources/conftest.py)
from resources import APP_ID  # noqa: E402

LINUX = ROOT / "packaging" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"


def desktop_entry() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in desktop files
    parser.read(DESKTOP, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_app_id_is_reverse_dns():
    assert APP_ID == "io.github.trainingstudio.TrainingStudio"
    assert re.fullmatch(r"[a-z0-9]+(\.[A-Za-z0-9_]+){2,}", APP_ID)


def test_desktop_entry_names_the_app_id_and_the_gui_script():
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "training-studio" == entry["TryExec"]
    assert entry["Terminal"] == "false"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^training-studio = "', pyproject, re.MULTILINE), "the gui script the entry runs exists"
    assert entry["Categories"].endswith(";")


def test_metainfo_uses_the_same_id_and_the_project_version():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    launchable = root.find("launchable")
    assert launchable is not None and launchable.text == DESKTOP.name
    assert launchable.get("type") == "desktop-id"
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE).group(1)
    releases = [r.get("version") for r in root.iter("release")]
    assert releases[0] == version, "the newest <release> is the version in pyproject.toml"
    assert root.find("content_rating").get("type") == "oars-1.1"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None,
                    reason="desktop-file-validate is not installed (apt-get install desktop-file-utils)")
def test_desktop_file_validate_accepts_the_entry():
    out = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "error" not in out.stdout.lower() and "warning" not in out.stdout.lower(), out.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None,
                    reason="appstreamcli is not installed (apt-get install appstream)")
def test_appstreamcli_accepts_the_metainfo():
    out = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_install_script_puts_entry_metainfo_and_icons_under_the_prefix(tmp_path):
    out = subprocess.run(["bash", str(LINUX / "install-desktop-entry.sh"), "--prefix", str(tmp_path),
                          "--exec", "/opt/ts/training-studio"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    share = tmp_path / "share"
    installed = (share / "applications" / DESKTOP.name).read_text()
    assert "Exec=/opt/ts/training-studio %f" in installed
    assert "TryExec=/opt/ts/training-studio" in installed
    assert (share / "metainfo" / METAINFO.name).is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    for size in (16, 48, 128, 256, 512):
        assert (share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()


def test_install_script_rejects_unknown_options(tmp_path):
    out = subprocess.run(["bash", str(LINUX / "install-desktop-entry.sh"), "--bogus"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "unknown option --bogus" in out.stderr
