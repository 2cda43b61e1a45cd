"""Themes and the app icon from the ``resources`` package, with plain fallbacks when it is absent."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

__all__ = ["apply_theme", "app_icon", "app_id", "is_dark", "on_theme_changed"]

_current = {"dark": False}
# Called with ``dark`` after every theme switch. The plot module registers here when it is first imported, so
# this module (imported at start-up) never pulls in pyqtgraph itself.
_listeners: list[Callable[[bool], None]] = []


def on_theme_changed(listener: Callable[[bool], None]) -> None:
    """Call ``listener(dark)`` whenever :func:`apply_theme` switches the theme."""
    if listener not in _listeners:
        _listeners.append(listener)


def is_dark() -> bool:
    """Whether the dark theme is applied (the plots pick their colours from it)."""
    return _current["dark"]


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
    """Apply the ``light``/``dark`` style sheet and repaint every plot in it; False when the theme is missing."""
    _current["dark"] = name == "dark"
    try:
        from resources import theme_stylesheet

        sheet = theme_stylesheet(name)  # type: ignore[arg-type]
    except (ImportError, OSError, ValueError):
        app.setStyleSheet("")
        found = False
    else:
        app.setStyleSheet(sheet)
        found = True
    for listener in list(_listeners):
        listener(_current["dark"])
    return found
