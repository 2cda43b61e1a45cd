"""Themes and the app icon from the ``resources`` package, with plain fallbacks when it is absent."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from studio.qt.plot_style import configure_pyqtgraph

__all__ = ["apply_theme", "app_icon", "app_id"]


def app_id() -> str:
    """The reverse-DNS application id (desktop file name)."""
    try:
        from resources import APP_ID
    except ImportError:
        return "io.github.trainingstudio.TrainingStudio"
    return APP_ID


def app_icon() -> QIcon:
    """The application icon, or an empty icon when resources are missing."""
    try:
        from resources import icon_path
    except ImportError:
        return QIcon()
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        try:
            path = icon_path(size)
        except ValueError:
            continue
        if path.is_file():
            icon.addFile(str(path))
    svg = icon_path(None)
    if icon.isNull() and svg.is_file():
        icon.addFile(str(svg))
    return icon


def apply_theme(app: QApplication, name: str) -> bool:
    """Apply the ``light``/``dark`` style sheet (and matching plot colours); False when the theme is missing."""
    configure_pyqtgraph(dark=name == "dark")
    try:
        from resources import theme_stylesheet

        sheet = theme_stylesheet(name)  # type: ignore[arg-type]
    except (ImportError, OSError, ValueError):
        app.setStyleSheet("")
        return False
    app.setStyleSheet(sheet)
    return True
