"""Render resources/icons/app.svg into the PNG sizes the desktop needs (app-16.png ... app-512.png).

Run after editing the SVG and commit the PNGs: ``.venv/bin/python packaging/render_icons.py``.
Uses Qt's SVG renderer (PySide6 is already a dependency), so no extra tool such as Inkscape is needed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # keep in sync with resources.ICON_SIZES (a test checks)


def render(svg: Path, out_dir: Path, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Render ``svg`` to ``out_dir/app-<size>.png`` for every size and return the written paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # QPainter needs an application object
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG file; fix it and run this script again.")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        path = out_dir / f"app-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"Could not write {path}; check that the folder is writable.")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in render(ICONS / "app.svg", ICONS):
        print(written_path)
