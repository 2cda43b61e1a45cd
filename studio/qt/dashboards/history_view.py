"""The Runs tab: every run under a root as an experiment (name, tags, notes, hyper-parameters, metric statistics),
sortable and filterable; the ticked runs overlaid on one plot, compared at a step, or drawn as parallel
coordinates of their hyper-parameters against a metric; open a run (replays its events into every view).

"Resume from here", "Test this checkpoint" and "Open in TensorBoard" are emitted as signals: the main window
decides how to launch them. "Move to Trash…" (button, context menu, Delete key) sends the selected runs' folders to
the desktop's trash after a confirmation (studio/qt/dashboards/run_trash.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.models.dashboards.history import RunSummary, load_run, scan_runs, value_at
from studio.models.metric_store import Series
from studio.models.run_state import RunModel
from studio.qt.dashboards.common import TableModel, button_row, make_table_view, plot_export_button
from studio.qt.dashboards.parallel_coords import ParallelCoordinatesView
from studio.qt.dashboards.run_table import RunFilterModel, RunTableModel
from studio.qt.dashboards.series_plot import SeriesPlot
from studio.qt.plot_style import color_for, plot_colors
from studio.services.session import RunSession

__all__ = ["HistoryView", "run_checkpoint"]


def run_checkpoint(folder: str) -> str | None:
    """The checkpoint to resume or test a run from: ``last.ckpt``, else the newest ``.ckpt`` of the run."""
    checkpoints = Path(folder) / "checkpoints"
    last = checkpoints / "last.ckpt"
    if last.is_file():
        return str(last)
    found = sorted(checkpoints.glob("*.ckpt"), key=lambda p: p.stat().st_mtime) if checkpoints.is_dir() else []
    return str(found[-1]) if found else None


def overlay_hint(runs: int, ticked: int, metric: str, drawn: int) -> str:
    """What the Runs overlay says while it draws nothing: what to do to fill it (empty once a curve is drawn)."""
    if drawn:
        return ""
    if not runs:
        return "No runs in this folder yet: Fit one, or Choose... another folder."
    if not metric:
        return "These runs logged no metrics to compare."
    if not ticked:
        return f"Tick runs in the table above to draw their {metric} here."
    return f"None of the ticked runs logged {metric}: pick another Metric."


class HistoryView(QWidget):
    """The Runs tab.

    Signals:
        resume_requested(str): resume training from this checkpoint ("Resume from here").
        test_requested(str): run Test with this checkpoint's weights.
        tensorboard_requested(str): open this run folder in TensorBoard.
    """

    resume_requested = Signal(str)
    test_requested = Signal(str)
    tensorboard_requested = Signal(str)

    def __init__(self, session: RunSession, parent: QWidget | None = None, *, root: str | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runs: list[RunSummary] = []
        self._loaded: dict[str, RunModel] = {}
        self._metric_columns: list[str] | None = None
        self.root_edit = QLineEdit(root or "")
        self.root_edit.setPlaceholderText("folder holding runs (lightning_logs/version_N with events.jsonl)")
        self.root_edit.returnPressed.connect(self.rescan)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.rescan)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter runs (name, tag, status, hyper-parameter value…)")
        self.filter_edit.setClearButtonEnabled(True)
        self.columns_button = QToolButton()
        self.columns_button.setText("Metric columns")
        self.columns_button.setToolTip("Which metrics get last / best / min / max columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self)
        self.columns_button.setMenu(self.columns_menu)

        self.table_model = RunTableModel(self)
        self.proxy = RunFilterModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)  # several runs go to the Trash
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableView.EditTrigger.EditKeyPressed | QTableView.EditTrigger.SelectedClicked)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.horizontalHeader().setMinimumSectionSize(40)
        self.table.doubleClicked.connect(lambda _: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._show_details())
        self.table_model.check_changed.connect(self.update_overlay)
        self.table_model.save_failed.connect(lambda text: self.info.setText(text))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        delete = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)  # not while a name is being edited in the table
        delete.activated.connect(self.trash_selected)

        self.open_button = QPushButton("Open run")
        self.open_button.setToolTip("Replay the selected run's events.jsonl into every view")
        self.open_button.clicked.connect(self.open_selected)
        self.resume_button = QPushButton("Resume from here")
        self.resume_button.setToolTip("Start a new Fit that continues from the selected run's last checkpoint")
        self.resume_button.clicked.connect(lambda: self._emit_checkpoint(self.resume_requested))
        self.test_button = QPushButton("Test this checkpoint")
        self.test_button.setToolTip("Run Test with the weights of the selected run's last checkpoint")
        self.test_button.clicked.connect(lambda: self._emit_checkpoint(self.test_requested))
        self.tensorboard_button = QPushButton("Open in TensorBoard")
        self.tensorboard_button.setToolTip("Open the selected run's folder in TensorBoard")
        self.tensorboard_button.clicked.connect(self._emit_tensorboard)
        self.report_button = QPushButton("Run report…")
        self.report_button.setToolTip("Write the shown run's config, summary, final metrics and plots as one HTML "
                                      "or Markdown file")
        self.report_button.clicked.connect(self._report)
        self.trash_button = QPushButton("Move to Trash…")
        self.trash_button.setToolTip("Move the selected runs' folders to the desktop's Trash (Delete key); they can "
                                     "be restored from there")
        self.trash_button.clicked.connect(self.trash_selected)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("name (default: script and short id)")
        self.tags_edit = QLineEdit()
        self.tags_edit.setPlaceholderText("comma-separated tags")
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setPlaceholderText("notes about this run")
        self.notes_edit.setMaximumHeight(70)
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Keep the name, tags and notes in the run folder's run.yaml")
        self.save_button.clicked.connect(self.save_details)
        details = QFormLayout()
        details.setContentsMargins(0, 0, 0, 0)
        details.addRow("Name", self.name_edit)
        details.addRow("Tags", self.tags_edit)
        details.addRow("Notes", self.notes_edit)
        details.addRow("", button_row(self.save_button))

        self.metric_combo = QComboBox()
        self.metric_combo.setMinimumWidth(120)
        self.metric_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.metric_combo.setMinimumContentsLength(12)
        self.metric_combo.currentIndexChanged.connect(lambda _: self.update_overlay())
        self.step = QSpinBox()
        self.step.setRange(0, 2_000_000_000)
        # Step 0 reads "last": each run's newest value (comparing at step 0 showed empty cells for most runs).
        self.step.setSpecialValueText("last")
        self.step.setToolTip("Compare the ticked runs at this step (the last point at or before it); \"last\": "
                             "each run's newest value")
        self.step.valueChanged.connect(lambda _: self.update_compare())
        # No legend inside the plot: at 1280x720 it covered the curves. The values table beside the plot is the
        # legend (each run's row starts with its curve's colour).
        self.overlay = SeriesPlot(self._series, legend=False)
        self._overlay_keys: list[str] = []
        # Said inside the empty plot, where the eye goes (an empty 0..1 frame gave no clue what to do).
        self.overlay_hint = pg.TextItem(anchor=(0.5, 0.5), color=plot_colors().muted)
        self.overlay.plot_item.addItem(self.overlay_hint, ignoreBounds=True)
        self.compare_model = TableModel(self)
        self.compare = make_table_view(self.compare_model)
        self.compare.setMinimumWidth(120)
        self.parallel = ParallelCoordinatesView()
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        top = QHBoxLayout()
        top.addWidget(QLabel("Root"))
        top.addWidget(self.root_edit, 1)
        top.addWidget(browse)
        top.addWidget(refresh)
        filters = QHBoxLayout()
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.columns_button)
        self._actions = [self.open_button, self.resume_button, self.test_button, self.tensorboard_button,
                         self.report_button, self.trash_button]
        actions_bar = QWidget()
        self._actions_grid = QGridLayout(actions_bar)
        self._actions_grid.setContentsMargins(0, 0, 0, 0)
        self._actions_per_row = 0
        self._place_actions(3)
        # The bar may be as narrow as three buttons: a resize lays the five out in one row when they fit.
        actions_bar.setMinimumWidth(actions_bar.minimumSizeHint().width())
        self._place_actions(len(self._actions))
        upper = QWidget()
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addLayout(top)
        upper_layout.addLayout(filters)
        upper_layout.addWidget(self.table, 1)
        upper_layout.addWidget(actions_bar)

        details_page = QWidget()
        details_page.setLayout(details)
        details.setContentsMargins(4, 4, 4, 4)
        overlay_page = QWidget()
        overlay_layout = QVBoxLayout(overlay_page)
        overlay_layout.setContentsMargins(0, 0, 0, 0)
        overlay_layout.addLayout(button_row(QLabel("Compare at step"), self.step,
                                            plot_export_button(self, self.overlay.plot_item, "runs_overlay",
                                                               self.overlay.visible_series)))
        # The values table beside the plot, not under it: at 1280x720 the tab has about 250 px of height.
        self.overlay_split = QSplitter(Qt.Orientation.Horizontal)
        self.overlay_split.addWidget(self.overlay)
        self.overlay_split.addWidget(self.compare)
        self.overlay_split.setSizes([600, 400])  # proportions: the table shows the run and its value
        overlay_layout.addWidget(self.overlay_split, 1)
        self.right_tabs = QTabWidget()
        self.right_tabs.addTab(overlay_page, "Overlay")
        self.right_tabs.addTab(self.parallel, "Parallel coordinates")
        self.right_tabs.addTab(details_page, "Name, tags, notes")
        self.right_tabs.currentChanged.connect(lambda _: self.update_parallel())
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(button_row(QLabel("Metric"), self.metric_combo))
        lower_layout.addWidget(self.right_tabs, 1)
        # The table spans the whole width (hyper-parameter and metric columns need it) with the charts and the
        # run's details below; dragging the handle to either end hides that part.
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(upper)
        self.split.addWidget(lower)
        self.split.setSizes([500, 500])  # at 1280x720: four runs (and a scroll bar) in the table, a 270 px plot
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.info)
        self._scanned = False
        session.run_ended.connect(lambda *_: self.rescan() if self._scanned else None)

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)  # type: ignore[arg-type]
        spacing = self._actions_grid.horizontalSpacing() if self._actions_grid.horizontalSpacing() > 0 else 6
        needed = sum(b.sizeHint().width() for b in self._actions) + spacing * (len(self._actions) - 1)
        # One row of actions when they fit (1920x1080), else three and two (1280x720 and narrower).
        self._place_actions(len(self._actions) if needed <= self.width() - 8 else 3)

    def _place_actions(self, per_row: int) -> None:
        if per_row == self._actions_per_row:
            return
        self._actions_per_row = per_row
        for button in self._actions:
            self._actions_grid.removeWidget(button)
        for index, button in enumerate(self._actions):
            self._actions_grid.addWidget(button, index // per_row, index % per_row)
        for column in range(len(self._actions) + 1):
            self._actions_grid.setColumnStretch(column, 0)
        self._actions_grid.setColumnStretch(per_row, 1)  # the buttons keep their width, left-aligned

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

    def metric_columns(self) -> list[str]:
        """The metrics with statistics columns (default: the runs' monitored metrics)."""
        if self._metric_columns is not None:
            return list(self._metric_columns)
        seen: list[str] = []
        for run in self.runs:
            if run.monitor and run.monitor not in seen and run.monitor in run.stats:
                seen.append(run.monitor)
        return seen

    def set_metric_columns(self, metrics: list[str]) -> None:
        """Show last/best/min/max columns for ``metrics``."""
        self._metric_columns = list(metrics)
        self._fill_table()

    def rescan(self) -> None:
        """Read the root again (new and growing runs only)."""
        self._scanned = True
        root = self.root_edit.text().strip()
        self.runs = scan_runs(root) if root else []
        metrics = sorted({m for run in self.runs for m in run.metric_names})
        self.columns_menu.clear()
        chosen = set(self.metric_columns())
        for metric in metrics:
            action = self.columns_menu.addAction(metric)
            action.setCheckable(True)
            action.setChecked(metric in chosen)
            action.toggled.connect(lambda on, m=metric: self._toggle_metric_column(m, on))
        self._fill_table()
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

    def _toggle_metric_column(self, metric: str, on: bool) -> None:
        columns = [m for m in self.metric_columns() if m != metric] + ([metric] if on else [])
        self.set_metric_columns(columns)

    def _fill_table(self) -> None:
        self.table_model.set_runs(self.runs, self.metric_columns())
        self.table.resizeColumnsToContents()
        for column in range(self.table_model.columnCount()):
            self.table.setColumnWidth(column, min(self.table.columnWidth(column), 220))

    # --- selection --------------------------------------------------------------------------------------------
    def checked_paths(self) -> list[str]:
        """Paths of the ticked runs, in list order."""
        return [run.path for run in self.runs if run.path in self.table_model.checked]

    def set_checked(self, paths: list[str]) -> None:
        """Tick exactly ``paths``."""
        self.table_model.checked = set(paths) & {run.path for run in self.runs}
        self.table_model.dataChanged.emit(self.table_model.index(0, 0),
                                          self.table_model.index(max(0, len(self.runs) - 1), 0))
        self.update_overlay()

    def row_of(self, path: str) -> int:
        """The table row (after sorting and filtering) showing run ``path``; -1 when filtered out."""
        for source_row, run in enumerate(self.runs):
            if run.path == path:
                return self.proxy.mapFromSource(self.table_model.index(source_row, 0)).row()
        return -1

    def selected_run(self) -> RunSummary | None:
        """The run of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.table_model.run_at(self.proxy.mapToSource(rows[0]).row())

    def selected_runs(self) -> list[RunSummary]:
        """The runs of every selected row, in table order."""
        rows = sorted(self.table.selectionModel().selectedRows(), key=lambda index: index.row())
        return [self.table_model.run_at(self.proxy.mapToSource(index).row()) for index in rows]

    def trash_selected(self) -> None:
        """Move the selected runs' folders to the Trash after a confirmation naming them; then read the root again."""
        from studio.qt.dashboards.run_trash import trash_runs

        runs = self.selected_runs()
        if not runs:
            self.info.setText("Select the run(s) to move to the Trash.")
            return
        outcome = trash_runs(self, self.session, [run.path for run in runs])
        for path in outcome.moved:
            self._loaded.pop(path, None)
            self.table_model.checked.discard(path)
        if outcome.moved:
            self.rescan()
        if outcome.message:
            self.info.setText(outcome.message)

    def _context_menu(self, at: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction("Open run", self.open_selected)
        menu.addAction("Move to Trash…", self.trash_selected)
        menu.exec(self.table.viewport().mapToGlobal(at))

    def select_run(self, path: str) -> None:
        """Select run ``path`` in the table."""
        row = self.row_of(path)
        if row >= 0:
            self.table.selectRow(row)

    def open_selected(self) -> None:
        """Replay the selected (or first ticked) run into the views."""
        run = self.selected_run()
        paths = [run.path] if run is not None else self.checked_paths()[:1]
        if not paths:
            self.info.setText("Select a run to open.")
            return
        try:
            self.session.open_run(paths[0])
        except (OSError, RuntimeError) as error:
            self.info.setText(str(error))
            return
        self.info.setText(f"Opened {paths[0]}: every tab now shows this run.")

    # --- experiment details -----------------------------------------------------------------------------------
    def _show_details(self) -> None:
        run = self.selected_run()
        enabled = run is not None
        for widget in (self.name_edit, self.tags_edit, self.notes_edit, self.save_button):
            widget.setEnabled(enabled)
        self.name_edit.setText(run.meta.name if run else "")
        self.name_edit.setPlaceholderText(run.default_title if run and run.default_title else "name")
        self.tags_edit.setText(", ".join(run.meta.tags) if run else "")
        self.notes_edit.setPlainText(run.meta.notes if run else "")

    def save_details(self) -> bool:
        """Save the detail fields into the selected run's ``run.yaml``."""
        run = self.selected_run()
        if run is None:
            self.info.setText("Select a run to name, tag or annotate.")
            return False
        run.meta.name = self.name_edit.text().strip()
        run.meta.tags = [t.strip() for t in self.tags_edit.text().split(",") if t.strip()]
        run.meta.notes = self.notes_edit.toPlainText().strip()
        if not self.table_model.save(run):
            return False
        self.info.setText(f"Saved name, tags and notes to {Path(run.path) / 'run.yaml'}.")
        self.update_overlay()
        return True

    def _emit_checkpoint(self, signal: Signal) -> None:
        run = self.selected_run()
        if run is None:
            self.info.setText("Select a run first.")
            return
        checkpoint = run_checkpoint(run.path)
        if checkpoint is None:
            self.info.setText(f"{run.title} has no checkpoint in {Path(run.path) / 'checkpoints'}: a run saves one "
                              "when ModelCheckpoint is on (Callbacks) or when it is stopped.")
            return
        signal.emit(checkpoint)  # type: ignore[attr-defined]

    def _emit_tensorboard(self) -> None:
        run = self.selected_run()
        self.tensorboard_requested.emit(run.path if run is not None else self.root_edit.text().strip())

    # --- overlay, compare and parallel coordinates ------------------------------------------------------------
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
        titles = {run.path: run.title for run in self.runs}
        keys = [f"{p}\x00{metric}" for p in paths if metric and self._model(p).metrics.get(metric) is not None]
        self._overlay_keys = keys
        self.overlay.set_series(keys, {k: titles.get(k.split("\x00")[0], k) for k in keys})
        self.overlay.plot_item.setLabel("left", metric)
        self.overlay.refresh(force=True)
        hint = overlay_hint(len(self.runs), len(paths), metric, len(keys))
        self.overlay_hint.setVisible(bool(hint))
        if hint:
            (x0, x1), (y0, y1) = self.overlay.plot_item.getViewBox().viewRange()
            self.overlay_hint.setText(hint)
            self.overlay_hint.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        self.update_compare()
        self.update_parallel()

    def update_compare(self) -> None:
        """The table of the ticked runs' values of the chosen metric at the chosen step."""
        from studio.models.dashboards.tables import Table

        metric, step = self.metric_combo.currentText(), self.step.value()
        at = math.inf if step == 0 else step
        table = Table(["Run", "Value at step", "Point's step", "Best", "Last"])
        by_path = {run.path: run for run in self.runs}
        drawn = self._overlay_keys  # the overlay's colours follow this order
        swatches: dict[int, str] = {}
        for path in self.checked_paths():
            key = f"{path}\x00{metric}"
            if key in drawn:
                swatches[len(table.rows)] = color_for(drawn.index(key))
            series = self._model(path).metrics.get(metric)
            point = value_at(*series.view(), at) if series is not None else None
            run = by_path[path]
            stats = run.stats.get(metric)
            table.rows.append([run.title, point[1] if point else math.nan, point[0] if point else math.nan,
                               stats.best if stats else math.nan, stats.last if stats else math.nan])
        self.compare_model.set_table(table, swatches=swatches)
        self.compare.resizeColumnsToContents()
        if self.runs:
            where = "their last step" if step == 0 else f"step {step} (the last point at or before it)"
            self.info.setText(f"{len(self.runs)} run(s). Comparing {metric or '-'} at {where} across the ticked "
                              "runs.")

    def update_parallel(self) -> None:
        """Draw the ticked runs' hyper-parameters against the chosen metric's best value."""
        if self.right_tabs.currentWidget() is not self.parallel:
            return
        runs = [run for run in self.runs if run.path in self.table_model.checked]
        names: list[str] = []
        for run in runs:
            names.extend(k for k in run.hparams if k not in names)
        metric = self.metric_combo.currentText()
        hparams = [(name, [run.hparams.get(name) for run in runs]) for name in names]
        values = [run.stats[metric].best if metric in run.stats else math.nan for run in runs]
        self.parallel.set_runs([run.title for run in runs], hparams,
                               (f"{metric} (best)", values) if metric else None)

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

