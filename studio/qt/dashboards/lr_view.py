"""Learning rate: the LR of each optimizer / param group over steps, from LearningRateMonitor's ``lr-*`` metrics."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from studio.qt.dashboards.common import button_row, plot_export_button
from studio.qt.dashboards.series_plot import SeriesPlot
from studio.services.session import RunSession

# Dashboards redraw at most 5 times a second while a run streams (the metrics tab keeps the full clock rate).
MIN_INTERVAL_S = 0.2

__all__ = ["LearningRateView", "lr_series_names"]

_EMPTY = ("No learning rates logged. Tick LearningRateMonitor (Trainer tab > Callbacks > More callbacks) and run a "
          "Fit to record the learning rate of every optimizer and parameter group.")


def lr_series_names(names: list[str]) -> list[str]:
    """The LearningRateMonitor series among ``names`` (``lr-Adam``, ``lr-SGD/pg1``, ``lr-Adam-momentum``...)."""
    return [n for n in names if n.startswith("lr-")]


class LearningRateView(QWidget):
    """The Learning rate tab."""

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.store = session.model.metrics
        self._store_version = -1
        self._drawn_at = 0.0
        self.plot = SeriesPlot(self.store.get, y_label="learning rate", steps=True)
        self.log_y = QCheckBox("Log y")
        self.log_y.toggled.connect(lambda on: self.plot.plot_item.setLogMode(y=on))
        self.note = QLabel(_EMPTY)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(button_row(self.log_y, plot_export_button(self, self.plot.plot_item, "learning_rate",
                                                                   self.plot.visible_series)))
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        session.tick.connect(self.refresh)
        session.cleared.connect(self._on_cleared)

    def report_plots(self) -> list:
        """(caption, plot item, has data) for the run report."""
        self.refresh(force=True)
        return [("Learning rate", self.plot.plot_item, bool(self.plot.names()))]

    def refresh(self, force: bool = False) -> None:
        """Redraw when visible and the metrics moved."""
        if not force and not self.isVisible():
            return
        if self.store.version == self._store_version and not force:
            return
        now = time.monotonic()
        if not force and now - self._drawn_at < MIN_INTERVAL_S:
            return  # drawn a moment ago: the next clock tick draws what arrived meanwhile
        self._drawn_at = now
        self._store_version = self.store.version
        names = lr_series_names(self.store.names())
        if names != self.plot.names():
            self.plot.set_series(names)
        self.plot.refresh(force)
        if names:
            latest = ", ".join(f"{n[3:]} = {self.store.series(n).last()[1]:.4g}" for n in names[:6]
                               if self.store.series(n).last() is not None)
            self.note.setText(f"Current: {latest}")
        else:
            self.note.setText(_EMPTY)

    def _on_cleared(self) -> None:
        self.plot.reset()
        self._store_version = -1
        self.refresh(force=True)
