"""The view area: a tab widget whose tabs are listed in a vertical navigation list beside it.

Fourteen and more views (Metrics, Console, the dashboards) do not fit one tab bar at 1280x720: Qt then hides the
last ones (Checkpoints, Runs) behind scroll arrows. A vertical list shows every title at any window width and stays
in step with the tabs; the :class:`ViewTabs` API is QTabWidget's, so code that adds or selects views is unchanged.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QTabWidget, QWidget

__all__ = ["ViewTabs", "ViewArea", "MAX_MIN_WIDTH"]

MAX_MIN_WIDTH = 600
"""The most width the view area asks for (pages fit 1280 px beside the forms and the navigation list)."""


class ViewTabs(QTabWidget):
    """A QTabWidget that says when tabs come and go (``tabs_changed``); its own tab bar is hidden."""

    tabs_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDocumentMode(True)
        self.tabBar().hide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        # A tab widget asks for the widest page's minimum; one page with a wide toolbar would then set the whole
        # window's minimum width past a 1280 px screen. Capped, such a page is narrowed (and clipped) instead.
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), MAX_MIN_WIDTH), hint.height())

    def tabInserted(self, index: int) -> None:  # noqa: N802 - Qt override
        super().tabInserted(index)
        self.tabs_changed.emit()

    def tabRemoved(self, index: int) -> None:  # noqa: N802 - Qt override
        super().tabRemoved(index)
        self.tabs_changed.emit()


class ViewArea(QWidget):
    """The navigation list and the views side by side; ``tabs`` is the QTabWidget-like view container."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tabs = ViewTabs()
        self.nav = QListWidget()
        self.nav.setObjectName("viewNavigation")
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setFrameShape(QListWidget.Shape.NoFrame)
        # Padding and an accent bar on the current view; colours come from the theme's list style.
        self.nav.setStyleSheet(
            "QListWidget#viewNavigation { border: none; border-radius: 0; }"
            "QListWidget#viewNavigation::item { padding: 5px 10px; border-left: 3px solid transparent; }"
            "QListWidget#viewNavigation::item:selected { border-left: 3px solid #4f6bff; }")
        self.nav.currentRowChanged.connect(self._on_row)
        self.tabs.currentChanged.connect(self._on_tab)
        self.tabs.tabs_changed.connect(self._rebuild)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.tabs, 1)
        self._rebuild()

    def titles(self) -> list[str]:
        """The titles in the navigation list, top to bottom."""
        return [self.nav.item(row).text() for row in range(self.nav.count())]

    def _rebuild(self) -> None:
        self.nav.blockSignals(True)
        self.nav.clear()
        for index in range(self.tabs.count()):
            item = QListWidgetItem(self.tabs.tabText(index))
            item.setToolTip(self.tabs.tabToolTip(index) or self.tabs.tabText(index))
            self.nav.addItem(item)
        self.nav.setCurrentRow(self.tabs.currentIndex())
        self.nav.blockSignals(False)
        widest = max((self.nav.fontMetrics().horizontalAdvance(t) for t in self.titles()), default=60)
        self.nav.setFixedWidth(widest + 36)

    def _on_row(self, row: int) -> None:
        if 0 <= row < self.tabs.count():
            self.tabs.setCurrentIndex(row)

    def _on_tab(self, index: int) -> None:
        if self.nav.currentRow() != index:
            self.nav.blockSignals(True)
            self.nav.setCurrentRow(index)
            self.nav.blockSignals(False)
