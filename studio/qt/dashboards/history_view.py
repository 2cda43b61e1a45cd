"""Run history: every run under a chosen root (studio and command-line runs) with status, start, duration, mode
and the monitored metric's best/last value; open one (replays its events into every view); overlay a metric of
the ticked runs on one plot with a legend; compare them at a chosen step; write a run report."""

from __future__ import annotations

import math
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.models.dashboards.history import RunSummary, load_run, scan_runs, value_at
from studio.models.metric_store import Series
from studio.models.run_state import RunModel
from studio.qt.dashboards.common import TableModel, button_row, make_table_view, plot_export_button
from studio.qt.dashboards.series_plot import SeriesPlot
from studio.services.session import RunSession

__all__ = ["HistoryView"]

COLUMNS = ["Run", "Status", "Started", "Duration", "Mode", "Monitor", "Best", "Last"]


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class HistoryView(QWidget):
    """The Runs tab."""

    def __init__(self, session: RunSession, parent: QWidget | None = None, *, root: str | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runs: list[RunSummary] = []
        self._loaded: dict[str, RunModel] = {}
        self.root_edit = QLineEdit(root or "")
        self.root_edit.setPlaceholderText("folder holding runs (lightning_logs/version_N with events.jsonl)")
        self.root_edit.returnPressed.connect(self.rescan)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.rescan)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemChanged.connect(lambda _: self.update_overlay())
        self.table.doubleClicked.connect(lambda _: self.open_selected())
        self.open_button = QPushButton("Open run")
        self.open_button.setToolTip("Replay the selected run's events.jsonl into every view")
        self.open_button.clicked.connect(self.open_selected)
        self.report_button = QPushButton("Run report…")
        self.report_button.setToolTip("Write the shown run's config, summary, final metrics and plots as one HTML "
                                      "or Markdown file")
        self.report_button.clicked.connect(self._report)
        self.metric_combo = QComboBox()
        self.metric_combo.setMinimumWidth(200)
        self.metric_combo.currentIndexChanged.connect(lambda _: self.update_overlay())
        self.step = QSpinBox()
        self.step.setRange(0, 2_000_000_000)
        self.step.setToolTip("Compare the ticked runs at this step (the last point at or before it)")
        self.step.valueChanged.connect(lambda _: self.update_compare())
        self.overlay = SeriesPlot(self._series)
        self.compare_model = TableModel(self)
        self.compare = make_table_view(self.compare_model)
        self.compare.setMaximumHeight(150)
        self.info = QLabel()
        self.info.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Root"))
        top.addWidget(self.root_edit, 1)
        top.addWidget(browse)
        top.addWidget(refresh)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(top)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(button_row(self.open_button, self.report_button))
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(button_row(QLabel("Overlay metric"), self.metric_combo, QLabel("Compare at step"),
                                          self.step, plot_export_button(self, self.overlay.plot_item, "runs_overlay",
                                                                        self.overlay.visible_series)))
        right_layout.addWidget(self.overlay, 1)
        right_layout.addWidget(self.compare)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([560, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split, 1)
        layout.addWidget(self.info)
        self._scanned = False
        session.run_ended.connect(lambda *_: self.rescan() if self._scanned else None)

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        # The root is read when the tab is first shown, not at start-up (a big root takes a while).
        if not self._scanned:
            self.rescan()
        super().showEvent(event)  # type: ignore[arg-type]

    # --- scanning ---------------------------------------------------------------------------------------------
    def set_root(self, root: str) -> None:
        """Show the runs under ``root``."""
        self.root_edit.setText(root)
        self.rescan()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder holding runs", self.root_edit.text())
        if folder:
            self.set_root(folder)

    def rescan(self) -> None:
        """Read the root again (new and growing runs only)."""
        self._scanned = True
        root = self.root_edit.text().strip()
        checked = set(self.checked_paths())
        self.runs = scan_runs(root) if root else []
        self.table.blockSignals(True)
        self.table.setRowCount(len(self.runs))
        for row, run in enumerate(self.runs):
            started = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)) if run.started else ""
            values = [run.name, run.status, started, _duration(run.duration_s), run.mode or "", run.monitor or "",
                      "" if run.best is None else f"{run.best:.5g}", "" if run.last is None else f"{run.last:.5g}"]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 0:
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                    item.setCheckState(Qt.CheckState.Checked if run.path in checked else Qt.CheckState.Unchecked)
                    item.setToolTip(run.path)
                self.table.setItem(row, column, item)
        self.table.blockSignals(False)
        self.table.resizeColumnsToContents()
        metrics = sorted({m for run in self.runs for m in run.metric_names})
        current = self.metric_combo.currentText()
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        self.metric_combo.addItems(metrics)
        preferred = current or next((r.monitor for r in self.runs if r.monitor), "")
        if preferred in metrics:
            self.metric_combo.setCurrentText(preferred)
        self.metric_combo.blockSignals(False)
        self.info.setText(f"{len(self.runs)} run(s) under {root}." if root else "Choose a folder holding runs.")
        self.update_overlay()

    # --- selection --------------------------------------------------------------------------------------------
    def checked_paths(self) -> list[str]:
        """Paths of the ticked runs, in list order."""
        out = []
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.checkState() == Qt.CheckState.Checked and row < len(self.runs):
                out.append(self.runs[row].path)
        return out

    def set_checked(self, paths: list[str]) -> None:
        """Tick exactly ``paths``."""
        self.table.blockSignals(True)
        for row, run in enumerate(self.runs):
            self.table.item(row, 0).setCheckState(Qt.CheckState.Checked if run.path in paths
                                                  else Qt.CheckState.Unchecked)
        self.table.blockSignals(False)
        self.update_overlay()

    def open_selected(self) -> None:
        """Replay the selected (or first ticked) run into the views."""
        rows = self.table.selectionModel().selectedRows()
        paths = [self.runs[rows[0].row()].path] if rows else self.checked_paths()[:1]
        if not paths:
            self.info.setText("Select a run to open.")
            return
        try:
            self.session.open_run(paths[0])
        except (OSError, RuntimeError) as error:
            self.info.setText(str(error))
            return
        self.info.setText(f"Opened {paths[0]}: every tab now shows this run.")

    # --- overlay and compare ----------------------------------------------------------------------------------
    def _model(self, path: str) -> RunModel:
        model = self._loaded.get(path)
        if model is None:
            model = self._loaded[path] = load_run(path)
        return model

    def _series(self, key: str) -> Series | None:
        path, _, metric = key.partition("\x00")
        return self._model(path).metrics.get(metric)

    def update_overlay(self) -> None:
        """Plot the chosen metric of every ticked run."""
        metric = self.metric_combo.currentText()
        paths = self.checked_paths()
        names = {run.path: run.name for run in self.runs}
        keys = [f"{p}\x00{metric}" for p in paths if metric and self._model(p).metrics.get(metric) is not None]
        self.overlay.set_series(keys, {k: names.get(k.split("\x00")[0], k) for k in keys})
        self.overlay.plot_item.setLabel("left", metric)
        self.overlay.refresh(force=True)
        self.update_compare()

    def update_compare(self) -> None:
        """The table of the ticked runs' values of the overlay metric at the chosen step."""
        from studio.models.dashboards.tables import Table

        metric, step = self.metric_combo.currentText(), self.step.value()
        table = Table(["Run", "Value at step", "Point's step", "Best", "Last"])
        names = {run.path: run for run in self.runs}
        for path in self.checked_paths():
            series = self._model(path).metrics.get(metric)
            point = value_at(*series.view(), step) if series is not None else None
            run = names[path]
            table.rows.append([run.name, point[1] if point else math.nan, point[0] if point else math.nan,
                               run.best if run.best is not None and run.monitor == metric else math.nan,
                               run.last if run.last is not None and run.monitor == metric else math.nan])
        self.compare_model.set_table(table)
        self.compare.resizeColumnsToContents()
        if self.runs:
            self.info.setText(f"{len(self.runs)} run(s). Comparing {metric or '-'} at step {step} (the last point at "
                              "or before it) across the ticked runs.")

    # --- report -----------------------------------------------------------------------------------------------
    def _report(self) -> None:
        from studio.qt.dashboards.report_action import build_report

        model = self.session.model
        suggestion = str(Path(model.log_dir or self.root_edit.text() or ".") / "report.html")
        path, _ = QFileDialog.getSaveFileName(self, "Write run report", suggestion,
                                              "HTML (*.html);;Markdown (*.md)")
        if path:
            written = build_report(self.session, self.window(), path)
            self.info.setText(f"Report written to {written}")
