"""Persistent studio settings (QSettings): recent files, runs folder, theme, window geometry.

``TRAINING_STUDIO_SETTINGS`` (an .ini path) and ``TRAINING_STUDIO_RUNS_DIR`` override the defaults, so tests and
portable installs keep their settings and runs where they want.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

__all__ = ["StudioSettings"]

_MAX_RECENT = 10


class StudioSettings:
    """Typed access to the studio's QSettings."""

    def __init__(self) -> None:
        override = os.environ.get("TRAINING_STUDIO_SETTINGS")
        if override:
            self.qsettings = QSettings(override, QSettings.Format.IniFormat)
        else:
            self.qsettings = QSettings("TrainingStudio", "Training Studio")

    def recent_files(self) -> list[str]:
        """Recently opened scripts and configs, newest first (missing files dropped)."""
        value = self.qsettings.value("recent_files", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if isinstance(p, str) and os.path.exists(p)]

    def add_recent(self, path: str) -> None:
        """Put ``path`` first in the recent files."""
        items = [p for p in self.recent_files() if p != path]
        self.qsettings.setValue("recent_files", [path, *items][:_MAX_RECENT])

    def clear_recent(self) -> None:
        """Forget the recent files."""
        self.qsettings.setValue("recent_files", [])

    def runs_dir(self) -> Path:
        """Where runs go when the trainer form leaves default_root_dir empty."""
        override = os.environ.get("TRAINING_STUDIO_RUNS_DIR") or self.qsettings.value("runs_dir", "")
        if override:
            return Path(str(override))
        base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
        return Path(base or Path.home() / ".training-studio") / "runs"

    def set_runs_dir(self, path: str) -> None:
        """Change the default runs folder."""
        self.qsettings.setValue("runs_dir", path)

    def theme(self) -> str:
        """``light`` or ``dark``."""
        value = str(self.qsettings.value("theme", "light"))
        return value if value in ("light", "dark") else "light"

    def set_theme(self, name: str) -> None:
        """Remember the theme."""
        self.qsettings.setValue("theme", name)

    def geometry(self) -> QByteArray | None:
        """Saved main-window geometry."""
        value = self.qsettings.value("geometry")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, value: QByteArray) -> None:
        """Remember the main-window geometry."""
        self.qsettings.setValue("geometry", value)

    def sync(self) -> None:
        """Write to disk now."""
        self.qsettings.sync()
