"""Settings and recent files persist across restarts and survive a corrupt settings file (QSettings)."""

from __future__ import annotations

from pathlib import Path

from studio.qt.settings import StudioSettings

GARBAGE = (b"\x00\xff\xfe[General]\nrecent_files=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x18QVariant garbage\n"
           b"theme=@ByteArray(\ngeometry=@Rect(1 2)\n[[[broken\n\x89PNG\r\n\x1a\n")


def test_recent_files_theme_and_runs_folder_persist(studio_env: Path) -> None:
    script = studio_env / "model.py"
    script.write_text("")
    first = StudioSettings()
    first.add_recent(str(script))
    first.set_theme("dark")
    first.set_runs_dir(str(studio_env / "elsewhere"))
    first.sync()
    again = StudioSettings()  # a restart reads the file back
    assert again.recent_files() == [str(script)]
    assert again.theme() == "dark"
    assert again.qsettings.value("runs_dir") == str(studio_env / "elsewhere")


def test_a_corrupt_settings_file_gives_defaults_and_is_repaired(studio_env: Path, qtbot) -> None:
    from studio.app import create_window

    path = studio_env / "settings.ini"
    path.write_bytes(GARBAGE)
    settings = StudioSettings()
    assert settings.recent_files() == [] and settings.theme() == "light" and settings.geometry() is None
    window = create_window(None)  # the window opens on a corrupt file
    qtbot.addWidget(window)
    window.close()
    script = studio_env / "model.py"
    script.write_text("")
    settings.add_recent(str(script))
    settings.set_theme("dark")
    settings.sync()
    again = StudioSettings()
    assert again.recent_files()[0] == str(script) and again.theme() == "dark"
