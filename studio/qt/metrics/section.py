"""A collapsible section of the metric grid: a header button and a grid of charts built when first expanded."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from studio.models.metric_groups import Chart
from studio.models.metric_store import MetricStore
from studio.qt.metrics.chart import MetricChart

__all__ = ["ChartSection"]

CHART_HEIGHT = 240


class ChartSection(QWidget):
    """The charts of one section (``train / val``, ``grad_2.0_norm``, ...).

    Charts are created the first time the section is expanded: a collapsed section of 36 grad-norm charts costs
    nothing until the user opens it. ``factory(chart, parent)`` makes (or reuses) the widget of a chart.

    Signals:
        toggled(bool): the section was expanded (True) or collapsed.
    """

    toggled = Signal(bool)

    def __init__(self, name: str, store: MetricStore, *, expanded: bool,
                 factory: Callable[[Chart, QWidget], MetricChart], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.store = store
        self.factory = factory
        self.specs: dict[str, Chart] = {}
        self.widgets: dict[str, MetricChart] = {}
        self.columns = 2
        self._filter = ""
        self.header = QToolButton()
        self.header.setObjectName("sectionHeader")
        self.header.setCheckable(True)
        self.header.setChecked(expanded)
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.header.toggled.connect(self._on_toggled)
        self.body = QWidget()
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 6)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        self.body.setVisible(expanded)
        self._update_header()

    @property
    def expanded(self) -> bool:
        """Whether the charts are shown."""
        return self.header.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        """Expand or collapse (same as clicking the header)."""
        self.header.setChecked(expanded)

    def set_charts(self, charts: list[Chart]) -> None:
        """The section's charts (new ones are built now when expanded, else on first expand)."""
        changed = [c.key for c in charts if c.key not in self.specs]
        for chart in charts:
            self.specs[chart.key] = chart
            widget = self.widgets.get(chart.key)
            if widget is not None and widget.chart.series != chart.series:
                widget.set_chart(chart)
        if changed:
            self._update_header()
            if self.expanded:
                self.build()
                self.relayout()

    def set_filter(self, text: str) -> int:
        """Show only charts whose title or series contain ``text`` (case-insensitive); returns how many match."""
        self._filter = text.lower().strip()
        self.relayout()
        matches = len(self._matching())
        self.setVisible(matches > 0)
        self._update_header()
        return matches

    def _matching(self) -> list[Chart]:
        if not self._filter:
            return list(self.specs.values())
        return [c for c in self.specs.values()
                if self._filter in c.title.lower() or any(self._filter in s.lower() for s in c.series)]

    def set_columns(self, columns: int) -> None:
        """Charts per row."""
        if columns != self.columns:
            self.columns = columns
            self.relayout()

    def relayout(self) -> None:
        """Place the matching charts in the grid (the others are hidden)."""
        if not self.expanded:
            return
        self.build()
        matching = {c.key for c in self._matching()}
        for widget in self.widgets.values():
            self.grid.removeWidget(widget)
        position = 0
        for key, widget in self.widgets.items():
            if key not in matching or widget.parent() is not self.body:
                widget.setVisible(key in matching and widget.parent() is self.body)
                continue
            self.grid.addWidget(widget, position // self.columns, position % self.columns)
            widget.setVisible(True)
            position += 1
        # Every column of the row stretches equally, empty ones too: a lone chart keeps the width of one column.
        for column in range(max(self.grid.columnCount(), self.columns)):
            self.grid.setColumnStretch(column, 1 if column < self.columns else 0)

    def take_back(self, widget: MetricChart) -> None:
        """Put a chart that was shown enlarged back into this section."""
        widget.setParent(self.body)
        widget.setMinimumHeight(CHART_HEIGHT)
        widget.setMaximumHeight(CHART_HEIGHT)
        self.relayout()

    def build(self) -> None:
        """Create the widgets of charts that have none yet (called on expand; the grid calls it to reach one)."""
        for key, chart in self.specs.items():
            if key in self.widgets:
                continue
            widget = self.factory(chart, self.body)
            widget.setMinimumHeight(CHART_HEIGHT)
            widget.setMaximumHeight(CHART_HEIGHT)
            widget.setMinimumWidth(160)
            self.widgets[key] = widget

    def _on_toggled(self, expanded: bool) -> None:
        self.body.setVisible(expanded)
        if expanded:
            self.relayout()
        self._update_header()
        self.toggled.emit(expanded)

    def _update_header(self) -> None:
        total = len(self.specs)
        shown = len(self._matching())
        count = f"{shown} of {total} charts" if shown != total else f"{total} chart{'s' if total != 1 else ''}"
        self.header.setArrowType(Qt.ArrowType.DownArrow if self.expanded else Qt.ArrowType.RightArrow)
        self.header.setText(f"{self.name}  ({count})")
