"""Images: one panel per tag with the image at a step, a step slider that follows the run live, click to zoom,
export of the shown image, and other runs' images of the same tag side by side ("Compare with run…").

Data: ``image`` events (``logger.experiment.add_image`` / ``add_images`` / ``add_figure`` and the Bolts image
callbacks), whose PNGs live in the run folder under ``media/<tag>/<step>.png``.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
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
from studio.models.run_state import load_events
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

    def __init__(self, tag: str, store: MediaStore, cache: _PixmapCache,
                 comparisons: list[tuple[str, MediaStore]] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tag = tag
        self.store = store
        self.cache = cache
        self.comparisons = comparisons if comparisons is not None else []
        self.compare_labels: list[tuple[QLabel, QLabel]] = []
        self.shown_path = ""
        self.shown_step: int | None = None
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)  # no stretching in a tall grid row
        self.title = QLabel(tag)
        self.title.setObjectName("imageTag")
        self.title.setWordWrap(True)
        self.image = _ClickableLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedSize(_THUMB, _THUMB)
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
        self.caption = QLabel("this run")  # shown while other runs are compared, so the columns line up
        own = QVBoxLayout()
        own.addWidget(self.image)
        own.addWidget(self.caption)
        self.row = QHBoxLayout()
        self.row.addLayout(own)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.row, 1)
        layout.addLayout(controls)
        self.set_comparisons(self.comparisons)

    def set_comparisons(self, comparisons: list[tuple[str, MediaStore]]) -> None:
        """Show other runs' images of this tag beside this run's, at the same step (``(label, store)`` pairs)."""
        self.comparisons = comparisons
        for image, caption in self.compare_labels:
            image.deleteLater()
            caption.deleteLater()
        self.compare_labels = []
        self.caption.setVisible(bool(comparisons))
        for _label, _store in comparisons:
            image, caption = QLabel(), QLabel()
            image.setAlignment(Qt.AlignmentFlag.AlignCenter)
            image.setFixedSize(_THUMB, _THUMB)
            caption.setWordWrap(True)
            column = QVBoxLayout()
            column.addWidget(image)
            column.addWidget(caption)
            self.row.addLayout(column)
            self.compare_labels.append((image, caption))
        # Panels flow in columns at a fixed width (zoom for the full size); each compared run adds one image.
        self.setFixedWidth((_THUMB + 12) * (1 + len(comparisons)) + 28)
        self.shown_path = ""
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
        self.shown_path, self.shown_step = path, step
        self._put(self.image, path, record.path)
        for (image, caption), (label, store) in zip(self.compare_labels, self.comparisons):
            other = store.image_at(self.tag, step) if store.image_steps(self.tag) else None
            if other is None or other.step > step:
                image.setPixmap(QPixmap())
                image.setText("no image yet")
                caption.setText(label)
                continue
            self._put(image, store.resolve(other), other.path)
            caption.setText(f"{label} @ step {other.step:,}")

    def _put(self, target: QLabel, path: str, recorded: str) -> None:
        pixmap = self.cache.get(path)
        if pixmap.isNull():
            target.setPixmap(QPixmap())
            target.setText(f"missing file:\n{recorded}")
            return
        target.setText("")
        # Small images (MNIST-sized samples) are enlarged without smoothing so pixels stay sharp.
        target.setPixmap(pixmap.scaled(_THUMB, _THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.FastTransformation if pixmap.width() < _THUMB
                                       else Qt.TransformationMode.SmoothTransformation))

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
    comparison_added = Signal(str)
    """The folder of a run now shown beside this one."""

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
        self.comparisons: list[tuple[str, MediaStore]] = []
        self.compare_button = QPushButton("Compare with run…")
        self.compare_button.setToolTip("Show another run's images of the same tags beside these, at the same step")
        self.compare_button.clicked.connect(self._choose_comparison)
        self.clear_compare_button = QPushButton("Clear comparison")
        self.clear_compare_button.setEnabled(False)
        self.clear_compare_button.clicked.connect(self.clear_comparisons)
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
        top.addWidget(self.compare_button)
        top.addWidget(self.clear_compare_button)
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
            panel = ImagePanel(tag, self.store, self.cache, self.comparisons)
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
        width = (_THUMB + 12) * (1 + len(self.comparisons)) + 40
        columns = max(1, self.width() // width)
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

    # --- comparing runs ---------------------------------------------------------------------------------------
    def add_comparison(self, folder: str) -> None:
        """Show the images of the run in ``folder`` (its ``events.jsonl``) beside this run's, tag by tag.

        Raises:
            FileNotFoundError: when the folder has no events file.
        """
        events_file = Path(folder) / "events.jsonl"
        if not events_file.is_file():
            raise FileNotFoundError(f"{folder} has no events.jsonl; choose a run folder (lightning_logs/version_N).")
        store = MediaStore()
        store.run_dir = str(Path(folder))
        for event in load_events(events_file):
            store.add(event)
        self.comparisons.append((Path(folder).name, store))
        self._apply_comparisons()
        self.comparison_added.emit(folder)

    def clear_comparisons(self) -> None:
        """Show this run's images alone again."""
        self.comparisons.clear()
        self._apply_comparisons()

    def _apply_comparisons(self) -> None:
        for panel in self.panels.values():
            panel.set_comparisons(self.comparisons)
        self.clear_compare_button.setEnabled(bool(self.comparisons))
        self._layout_panels()

    def _choose_comparison(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Compare with the run in folder", self.store.run_dir or "")
        if not folder:
            return
        try:
            self.add_comparison(folder)
        except FileNotFoundError as error:
            self.status.setText(str(error))
            self.status.setVisible(True)

    def open_zoom(self, path: str, title: str) -> None:
        """Show ``path`` in the zoom dialog (non-modal; one at a time)."""
        if self.zoom is not None:
            self.zoom.close()
        self.zoom = ZoomDialog(path, title, self)
        self.zoom.show()
        self.zoom_opened.emit(path)
