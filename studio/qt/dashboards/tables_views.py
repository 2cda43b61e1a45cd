"""Table views: the weights summary, the profiler reports (with the Chrome trace) and the saved checkpoints."""

from __future__ import annotations

import glob
import os
import shutil

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPushButton, QVBoxLayout, QWidget

from studio.models.dashboards.checkpoints import CheckpointRow, checkpoint_rows, saved_at
from studio.models.dashboards.tables import Table, human_count, profiler_tables, summary_table, summary_totals
from studio.qt.dashboards.common import (
    TableModel,
    button_row,
    make_table_view,
    run_config,
    table_export_button,
)
from studio.services.session import RunSession

__all__ = ["SummaryView", "ProfilerView", "CheckpointsView", "trace_files", "copy_checkpoint"]


class _TableTab(QWidget):
    """A table refreshed when events of ``kinds`` arrive (or a run is loaded)."""

    kinds: tuple[str, ...] = ()

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = TableModel(self)
        self.table = make_table_view(self.model)
        self.info = QLabel()
        self.info.setWordWrap(True)
        self._dirty = True
        session.updated.connect(self._on_updated)
        session.cleared.connect(self._mark)
        session.tick.connect(self._on_tick)

    def _mark(self) -> None:
        self._dirty = True
        self._on_tick()

    def _on_updated(self, kinds: set[str]) -> None:
        if kinds & set(self.kinds):
            self._dirty = True

    def _on_tick(self) -> None:
        if self._dirty and self.isVisible():
            self.rebuild()

    def rebuild(self) -> None:
        """Rebuild the table from the run model."""
        self._dirty = False


class SummaryView(_TableTab):
    """Weights summary: name, type, params, in/out sizes; top/full depth; trainable/non-trainable totals, MB."""

    kinds = ("model_summary",)

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.depth_combo = QComboBox()
        self.depth_combo.addItems(["full", "top"])
        self.depth_combo.setToolTip("top: the model's direct children; full: every layer the run reported")
        self.depth_combo.currentIndexChanged.connect(lambda _: self.rebuild())
        self.current = Table([])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(button_row(QLabel("Depth"), self.depth_combo,
                                    table_export_button(self, lambda: self.current, "weights_summary")))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.info)
        self.rebuild()

    def rebuild(self) -> None:
        super().rebuild()
        events = self.session.model.extras.get("model_summary") or []
        self.current = summary_table(events, self.depth_combo.currentText())
        self.model.set_table(self.current)
        self.table.resizeColumnsToContents()
        if not events:
            self.info.setText("No weights summary yet: run a Fit (or Validate/Test); the table arrives when the model "
                              "is set up.")
            return
        totals = summary_totals(events)
        note = "" if totals["has_full"] else (" Only the top level was reported; in/out sizes need "
                                              "example_input_array and the ModelSummary callback's table.")
        self.info.setText(f"{human_count(totals['trainable'])} trainable params, "
                          f"{human_count(totals['non_trainable'])} non-trainable, {human_count(totals['total'])} "
                          f"total; estimated size {totals['size_mb']:.3f} MB.{note}")


def trace_files(log_dir: str | None) -> list[str]:
    """PyTorch profiler Chrome traces (``*.pt.trace.json``) in the run folder, newest first."""
    if not log_dir or not os.path.isdir(log_dir):
        return []
    paths = glob.glob(os.path.join(log_dir, "**", "*.pt.trace.json"), recursive=True)
    return sorted(paths, key=os.path.getmtime, reverse=True)


class ProfilerView(_TableTab):
    """Profiler reports (simple/advanced/pytorch) as sortable tables per stage; open/save the Chrome trace."""

    kinds = ("profiler_report",)

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.stage = QComboBox()
        self.stage.currentIndexChanged.connect(lambda _: self._show_stage())
        self.tables: list[Table] = []
        self.open_trace = QPushButton("Open Chrome trace")
        self.open_trace.setToolTip("Open the PyTorch profiler's trace with the system viewer "
                                   "(or load it in chrome://tracing / ui.perfetto.dev)")
        self.open_trace.clicked.connect(self._open_trace)
        self.save_trace = QPushButton("Save trace as…")
        self.save_trace.clicked.connect(self._save_trace)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(button_row(QLabel("Stage"), self.stage, self.open_trace, self.save_trace,
                                    table_export_button(self, self.current_table, "profiler")))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.info)
        # Fixed decimals in seconds: 6 significant digits printed 7.33444e-05 under 0.0553734, read as 7 s.
        seconds = "{:.6f}".format
        self.model.formats = {1: seconds, 3: seconds, 4: "{:.2f}".format}
        self.rebuild()

    def current_table(self) -> Table:
        """The table of the chosen stage."""
        index = self.stage.currentIndex()
        return self.tables[index] if 0 <= index < len(self.tables) else Table([])

    def rebuild(self) -> None:
        super().rebuild()
        self.tables = profiler_tables(self.session.model.extras.get("profiler_report") or [])
        chosen = self.stage.currentText()
        self.stage.blockSignals(True)
        self.stage.clear()
        self.stage.addItems([t.title for t in self.tables])
        if chosen in [t.title for t in self.tables]:
            self.stage.setCurrentText(chosen)
        self.stage.blockSignals(False)
        self._show_stage()
        traces = trace_files(self.session.model.log_dir)
        self.open_trace.setEnabled(bool(traces))
        self.save_trace.setEnabled(bool(traces))
        if not self.tables:
            self.info.setText("No profiler report yet. Set the Trainer flag profiler (simple, advanced or pytorch; "
                              "Trainer tab > Debugging) and run a Fit; the tables update at the end of each stage.")
        else:
            self.info.setText(f"{len(self.current_table().rows)} actions. "
                              + (f"Chrome trace: {traces[0]}" if traces else "No Chrome trace (profiler=pytorch "
                                 "writes one)."))

    def _show_stage(self) -> None:
        self.model.set_table(self.current_table())
        self.table.horizontalHeader().setSortIndicator(3, Qt.SortOrder.DescendingOrder)
        self.table.resizeColumnsToContents()
        # Callback actions carry their repr; keep the numbers on screen.
        self.table.setColumnWidth(0, min(self.table.columnWidth(0), 520))

    def _open_trace(self) -> None:
        traces = trace_files(self.session.model.log_dir)
        if traces:
            QDesktopServices.openUrl(QUrl.fromLocalFile(traces[0]))

    def _save_trace(self) -> None:
        traces = trace_files(self.session.model.log_dir)
        if not traces:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save Chrome trace", os.path.basename(traces[0]),
                                              "Chrome trace (*.json)")
        if path:
            shutil.copyfile(traces[0], path)


def copy_checkpoint(row: CheckpointRow, destination: str) -> str:
    """Copy a checkpoint file; ``destination`` may be a folder. Returns the written path.

    Raises:
        FileNotFoundError: when the checkpoint is no longer on disk (with what to do).
    """
    if not os.path.isfile(row.path):
        raise FileNotFoundError(f"{row.path} is no longer on disk (deleted by save_top_k, or the run folder moved).")
    target = os.path.join(destination, os.path.basename(row.path)) if os.path.isdir(destination) else destination
    shutil.copyfile(row.path, target)
    return target


class CheckpointsView(_TableTab):
    """Saved checkpoints with their monitored scores; the best is highlighted; copy one to a chosen path."""

    kinds = ("checkpoint_saved", "epoch_finished", "run_started")

    def __init__(self, session: RunSession, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.rows: list[CheckpointRow] = []
        self.copy_button = QPushButton("Copy to…")
        self.copy_button.setToolTip("Copy the selected checkpoint (or the best) to a file or folder you choose")
        self.copy_button.clicked.connect(self._copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(button_row(self.copy_button,
                                    table_export_button(self, self.export_table, "checkpoints")))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.info)
        self.rebuild()

    def rebuild(self) -> None:
        super().rebuild()
        model = self.session.model
        # The scores come from the validation metrics seen before each save; RunModel keeps the checkpoint events
        # and the epoch-level series, so a summary is rebuilt per checkpoint from the series at its step.
        events = self._ordered_events()
        self.rows = checkpoint_rows(events, run_config(self.session))
        table = Table(["File", "Kind", "Epoch", "Step", "Monitor", "Score", "On disk"])
        for row in self.rows:
            table.rows.append([os.path.basename(row.path), row.kind, row.epoch if row.epoch is not None else "",
                               row.step if row.step is not None else "", row.monitor or "",
                               row.score if row.score is not None else float("nan"), "yes" if row.exists else "no"])
        self.model.set_table(table, {i for i, r in enumerate(self.rows) if r.best})
        self.table.resizeColumnsToContents()
        best = next((r for r in self.rows if r.best), None)
        if not self.rows:
            self.info.setText("No checkpoints saved yet: run a Fit (ModelCheckpoint saves one per epoch by default; "
                              "Stop also saves one).")
        else:
            self.info.setText(f"{len(self.rows)} checkpoint(s) in {model.log_dir or '?'}"
                              + (f"; best: {os.path.basename(best.path)} ({best.monitor} = {best.score:.5g})"
                                 if best is not None and best.score is not None else ""))

    def export_table(self) -> Table:
        """The table as shown plus each file's full path (the File column names only the file: an exported list
        did not say where to load a checkpoint from)."""
        paths = {os.path.basename(r.path): r.path for r in self.rows}
        shown = self.model.table
        return Table([*shown.headers, "Path"], [[*row, paths.get(str(row[0]), "")] for row in shown.rows],
                     shown.title)

    def _ordered_events(self) -> list[dict]:
        model = self.session.model
        merged = list(model.extras.get("checkpoint_saved") or []) + _validation_from_series(model)
        return sorted(merged, key=lambda e: (float(e.get("time") or 0.0), int(e.get("seq") or 0)))

    def selected_row(self) -> CheckpointRow | None:
        """The selected checkpoint, else the best, else the newest."""
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if rows:
            name = self.model.table.rows[rows[0].row()][0]
            return next((r for r in self.rows if os.path.basename(r.path) == name), None)
        return next((r for r in self.rows if r.best), self.rows[-1] if self.rows else None)

    def _copy(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Copy checkpoint to", os.path.basename(row.path),
                                              "Checkpoint (*.ckpt)")
        if path:
            try:
                self.info.setText(f"Copied to {copy_checkpoint(row, path)}")
            except OSError as error:
                self.info.setText(str(error))


def _validation_from_series(model: object) -> list[dict]:
    """Stand-in validation summaries from the epoch-level metric series (score lookup by step)."""
    store = model.metrics  # type: ignore[attr-defined]
    checkpoints = model.extras.get("checkpoint_saved") or []  # type: ignore[attr-defined]
    out = []
    for event in checkpoints:
        step = saved_at(str(event.get("path") or ""), event.get("epoch"), event.get("step"))[1]
        metrics = {}
        for name in store.names():
            series = store.series(name)
            if series.kind != "epoch" or not len(series) or step is None:
                continue
            x, y = series.view()
            index = int((x <= float(step)).sum()) - 1
            if index >= 0:
                metrics[name] = float(y[index])
        out.append({"type": "epoch_finished", "stage": "validate", "metrics": metrics, "step": step,
                    "time": float(event.get("time") or 0.0) - 1e-6, "seq": int(event.get("seq") or 0) - 1})
    return out
