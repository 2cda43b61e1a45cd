"""Images: one panel per tag with the image at a step, a step slider that follows the run live, click to zoom, and
export of the shown image.

Data: ``image`` events (``logger.experiment.add_image`` / ``add_images`` / ``add_figure`` and the Bolts image
callbacks), whose PNGs live in the run folder under ``media/<tag>/<step>.png``.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.models.dashboards.media import MediaStore
from studio.qt.dashboards.common import ask_save_path
from studio.services.session import RunSession

__all__ = ["ImagesView", "ImagePanel"]

_EMPTY = ("No images in this run. Log them from the script with self.logger.experiment.add_image(tag, image, "
          "step) (the default logger is TensorBoard), or add a Bolts image callback such as "
          "TensorboardGenerativeModelImageSampler.")
_THUMB = 256  # panel image size in pixels (zoom shows the full size)
_CACHE = 64  # decoded pixmaps kept (a slider drag revisits the same few files)


class _ClickableLabel(QLabel):
    clicked = Signal()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)


class _PixmapCache:
    """Decoded images by path, least recently used dropped first."""

    def __init__(self, size: int = _CACHE) -> None:
        self._size = size
        self._items: OrderedDict[str, QPixmap] = OrderedDict()

    def get(self, path: str) -> QPixmap:
        pixmap = self._items.get(path)
        if pixmap is None:
            pixmap = QPixmap(path)
            self._items[path] = pixmap
            if len(self._items) > self._size:
                self._items.popitem(last=False)
        else:
            self._items.move_to_end(path)
        return pixmap

    def clear(self) -> None:
        self._items.clear()


class ImagePanel(QFrame):
    """One tag: title, the image at the chosen step, a step slider, and an export button.

    The slider sits on the newest step by default and then follows the run; moved back, it stays where the user
    put it until it is dragged to the end again.
    """

    zoom_requested = Signal(str, str)
    """(path, title) of the shown image, for a larger view."""

    def __init__(self, tag: str, store: MediaStore, cache: _PixmapCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tag = tag
        self.store = store
        self.cache = cache
        self.shown_path = ""
        self.shown_step: int | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(_THUMB + 40)  # panels flow in columns; zoom for the full size
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # no stretching in a tall grid row
        self.title = QLabel(tag)
        self.title.setObjectName("imageTag")
        self.title.setWordWrap(True)
        self.image = _ClickableLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedHeight(_THUMB)
        self.image.setToolTip("Click to zoom")
        self.image.setCursor(Qt.CursorShape.PointingHandCursor)
        self.image.clicked.connect(self._zoom)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)  # Qt starts at 0..99; an empty range means "at the newest"
        self.slider.valueChanged.connect(lambda _value: self._show())
        self.step_label = QLabel()
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the shown image as PNG")
        self.export_button.clicked.connect(self._export)
        controls = QHBoxLayout()
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.step_label)
        controls.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.image, 1)
        layout.addLayout(controls)
        self.refresh()

    def refresh(self) -> None:
        """Take new steps; keep following the newest unless the user moved the slider back."""
        steps = self.store.image_steps(self.tag)
        following = self.slider.value() >= self.slider.maximum()
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(len(steps) - 1, 0))
        if following:
            self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        self._show()

    def show_step(self, step: int) -> None:
        """Move the slider to the image at ``step`` (or the last one before it)."""
        steps = self.store.image_steps(self.tag)
        index = max((i for i, s in enumerate(steps) if s <= step), default=0)
        self.slider.setValue(index)

    def _show(self) -> None:
        steps = self.store.image_steps(self.tag)
        if not steps:
            return
        step = steps[min(self.slider.value(), len(steps) - 1)]
        record = self.store.image_at(self.tag, step)
        if record is None:
            return
        path = self.store.resolve(record)
        self.step_label.setText(f"step {step:,}  ({self.slider.value() + 1}/{len(steps)})")
        if path == self.shown_path:
            return
        pixmap = self.cache.get(path)
        self.shown_path, self.shown_step = path, step
        if pixmap.isNull():
            self.image.setPixmap(QPixmap())
            self.image.setText(f"missing file:\n{record.path}")
            return
        self.image.setText("")
        # Small images (MNIST-sized samples) are enlarged without smoothing so pixels stay sharp.
        scaled = pixmap.scaled(_THUMB, _THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.FastTransformation if pixmap.width() < _THUMB
                               else Qt.TransformationMode.SmoothTransformation)
        self.image.setPixmap(scaled)

    def _zoom(self) -> None:
        if self.shown_path:
            self.zoom_requested.emit(self.shown_path, f"{self.tag} at step {self.shown_step:,}")

    def _export(self) -> None:
        if not self.shown_path:
            return
        suggestion = f"{self.tag.replace('/', '_')}_step{self.shown_step}.png"
        target = ask_save_path(self, "Export image", suggestion, "PNG image (*.png)")
        if target:
            shutil.copyfile(self.shown_path, target)


class ZoomDialog(QDialog):
    """The shown image at full size (enlarged up to the dialog, pixels kept sharp)."""

    def __init__(self, path: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        pixmap = QPixmap(path)
        label = QLabel()
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        factor = max(1, min(8, 640 // max(pixmap.width(), pixmap.height(), 1)))
        label.setPixmap(pixmap.scaled(pixmap.width() * factor, pixmap.height() * factor,
                                      Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))
        scroll = QScrollArea()
        scroll.setWidget(label)
        scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        self.resize(min(pixmap.width() * factor + 40, 1000), min(pixmap.height() * factor + 60, 700))


class ImagesView(QWidget):
    """The Images tab: a grid of :class:`ImagePanel`, filtered by tag."""

    zoom_opened = Signal(str)
    """The path of an image opened in the zoom dialog."""

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = session.model.media
        self.cache = _PixmapCache()
        self.panels: dict[str, ImagePanel] = {}
        self._drawn_version = -1
        self.zoom: ZoomDialog | None = None

        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter tags")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(lambda _text: self._layout_panels())
        self.status = QLabel(_EMPTY)
        self.status.setWordWrap(True)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)

        session.tick.connect(self._on_tick)
        session.cleared.connect(self._on_cleared)
        session.run_started.connect(lambda _mode: self._on_cleared())

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)  # type: ignore[arg-type]
        self.refresh()

    def _on_tick(self) -> None:
        if self.isVisible() and self.store.image_version != self._drawn_version:
            self.refresh()

    def _on_cleared(self) -> None:
        for panel in self.panels.values():
            panel.deleteLater()
        self.panels.clear()
        self.cache.clear()
        self._drawn_version = -1
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        """Add panels for new tags and move each panel to its newest image (unless the user scrolled back)."""
        self._drawn_version = self.store.image_version
        new_tags = [tag for tag in self.store.image_tags() if tag not in self.panels]
        for tag in new_tags:
            panel = ImagePanel(tag, self.store, self.cache)
            panel.zoom_requested.connect(self.open_zoom)
            self.panels[tag] = panel
        for panel in self.panels.values():
            panel.refresh()
        if new_tags:
            self._layout_panels()
        self.status.setVisible(not self.panels)

    def _layout_panels(self) -> None:
        needle = self.filter.text().strip().lower()
        while self.grid.count():
            self.grid.takeAt(0)
        columns = max(1, self.width() // (_THUMB + 40))
        shown = 0
        for tag, panel in self.panels.items():
            visible = needle in tag.lower()
            panel.setVisible(visible)
            if visible:
                self.grid.addWidget(panel, shown // columns, shown % columns)
                shown += 1

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._layout_panels()

    def open_zoom(self, path: str, title: str) -> None:
        """Show ``path`` in the zoom dialog (non-modal; one at a time)."""
        if self.zoom is not None:
            self.zoom.close()
        self.zoom = ZoomDialog(path, title, self)
        self.zoom.show()
        self.zoom_opened.emit(path)
