"""The series keys in a chart's header: one clickable key per series that hides or shows its curve.

Clicking a key toggles its series, as a TensorBoard or W&B legend entry does; a hidden series' key stays in place,
dimmed and struck through, so it can be clicked back. The keys never widen the chart: what does not fit is clipped
(every name is in the tooltip).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QToolButton, QWidget

from studio.models.metric_groups import short_labels
from studio.qt.plot_style import color_for, plot_colors

__all__ = ["SeriesKeys"]


class SeriesKeys(QWidget):
    """A row of keys, one per series of a chart with two or more series (a lone series needs no key).

    Signals:
        toggled(str): the user clicked the key of this series.
    """

    toggled = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartKeys")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.buttons: dict[str, QToolButton] = {}
        self._hidden: frozenset[str] = frozenset()
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(12, 0, 0, 0)
        self._layout.setSpacing(4)
        self._layout.addStretch(1)

    def set_series(self, series: list[str], hidden: set[str] | frozenset[str]) -> None:
        """One key per name of ``series`` (none for a single series), drawn hidden for names in ``hidden``."""
        names = list(series) if len(series) > 1 else []
        if names != list(self.buttons):
            for button in self.buttons.values():
                self._layout.removeWidget(button)
                button.deleteLater()
            self.buttons = {}
            for index, (name, label) in enumerate(zip(names, short_labels(names))):
                button = QToolButton(self)
                button.setAutoRaise(True)
                button.setText(f"━ {label}")
                button.setProperty("series_color", color_for(index))
                button.clicked.connect(lambda _=False, n=name: self.toggled.emit(n))
                self._layout.insertWidget(self._layout.count() - 1, button)
                self.buttons[name] = button
        self.setToolTip("\n".join(series))
        self.show_hidden(hidden)

    def show_hidden(self, hidden: set[str] | frozenset[str]) -> None:
        """Dim and strike through the keys of the ``hidden`` series."""
        self._hidden = frozenset(hidden)
        muted = plot_colors().muted
        for name, button in self.buttons.items():
            off = name in self._hidden
            color = muted if off else str(button.property("series_color"))
            button.setStyleSheet(f"QToolButton {{ color: {color}; padding: 0px 2px; }}")
            font = button.font()
            font.setStrikeOut(off)
            button.setFont(font)
            verb = "show" if off else "hide"
            button.setToolTip(f"{name}: click to {verb} this series")

    def is_dimmed(self, name: str) -> bool:
        """Whether the key of ``name`` is drawn as hidden."""
        return name in self._hidden and name in self.buttons

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.show_hidden(self._hidden)  # the dimmed colour follows the theme
