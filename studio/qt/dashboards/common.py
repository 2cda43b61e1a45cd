"""Shared pieces of the dashboard views: a sortable table model, plot/table export buttons, run config lookup and
the link to the main window's forms (for the tuners' Apply buttons)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers ImageExporter/SVGExporter
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QMenu, QPushButton, QTableView, QWidget

from studio.models.dashboards.report import series_csv
from studio.models.dashboards.tables import Table, to_csv, to_markdown
from studio.services.session import RunSession

__all__ = ["TableModel", "make_table_view", "export_plot", "plot_export_button", "table_export_button",
           "run_config", "ask_save_path", "fmt_bytes", "fmt_num"]

_Index = QModelIndex | QPersistentModelIndex


def fmt_num(value: Any) -> str:
    """Numbers for table cells: ints with separators, floats in 6 significant digits."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def fmt_bytes(value: float | None) -> str:
    """``1536`` -> ``"1.5 KiB"``; None -> ``"n/a"``."""
    if value is None:
        return "n/a"
    value = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


class TableModel(QAbstractTableModel):
    """A read-only table of a :class:`Table`; sorting is by the raw values (numbers sort numerically).

    ``highlight`` rows are drawn bold on a pale green background (the best checkpoint, for example). ``swatches``
    maps a row to a colour shown as a square before its first cell: the table is then a plot's legend.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = Table([])
        self.highlight: set[int] = set()
        self.swatches: dict[int, str] = {}
        # Column -> cell text for its numbers (sorting still uses the raw values); fmt_num for the rest.
        self.formats: dict[int, Callable[[Any], str]] = {}

    def set_table(self, table: Table, highlight: set[int] | None = None,
                  swatches: dict[int, str] | None = None) -> None:
        """Replace the contents."""
        self.beginResetModel()
        self.table = table
        self.highlight = set(highlight or ())
        self.swatches = dict(swatches or {})
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.table.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.table.headers)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self.table.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            fmt = self.formats.get(index.column())
            if fmt is not None and isinstance(value, float) and not math.isnan(value):
                return fmt(value)
            return fmt_num(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 0 and index.row() in self.swatches:
            return QColor(self.swatches[index.row()])
        if index.row() in self.highlight:
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(40, 170, 90, 70))
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.table.headers[section] if section < len(self.table.headers) else None
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column >= len(self.table.headers):
            return
        self.layoutAboutToBeChanged.emit()
        marked = [self.table.rows[i] for i in self.highlight if i < len(self.table.rows)]
        colored = [(self.table.rows[i], c) for i, c in self.swatches.items() if i < len(self.table.rows)]

        def key(row: list[Any]) -> tuple[int, Any]:
            value = row[column]
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return (0, -math.inf if math.isnan(value) else value)
            return (1, str(value).lower())

        self.table.rows.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)
        self.highlight = {i for i, row in enumerate(self.table.rows) if any(row is m for m in marked)}
        self.swatches = {i: c for i, row in enumerate(self.table.rows) for r, c in colored if row is r}
        self.layoutChanged.emit()


def make_table_view(model: TableModel) -> QTableView:
    """A sortable, stretch-last-column table view on ``model``."""
    view = QTableView()
    view.setModel(model)
    # No sort indicator until the user clicks a header: rows keep the order the run reported them in.
    view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.horizontalHeader().setStretchLastSection(True)
    view.verticalHeader().setVisible(False)
    return view


def ask_save_path(parent: QWidget, title: str, suggestion: str, pattern: str) -> str:
    """A save-file dialog; returns "" when cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggestion, pattern)
    return path


def export_plot(plot: pg.PlotItem, path: str, series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                width: int = 1200, *, x_name: str = "step") -> str:
    """Write ``plot`` to ``path`` by suffix: .png (``width`` px), .svg, or .csv (``series``, the full data, its
    first column headed ``x_name``: what the x axis is)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        Path(path).write_text(series_csv(series or {}, x_name), encoding="utf-8")
    elif suffix == ".svg":
        pg.exporters.SVGExporter(plot).export(path)
    else:
        exporter = pg.exporters.ImageExporter(plot)
        exporter.parameters()["width"] = width
        exporter.export(path)
    return path


def plot_export_button(parent: QWidget, plot: pg.PlotItem, name: str, series_fn: Any, *,
                       x_name: str = "step") -> QPushButton:
    """An "Export…" button: PNG, SVG, or the visible series as CSV (``series_fn()`` gives name -> (x, y); the CSV's
    first column is headed ``x_name``, the quantity on the x axis: the LR finder's lr column was headed "step")."""
    button = QPushButton("Export…")
    button.setToolTip("Save this plot as PNG or SVG, or its visible series as CSV")

    def run() -> None:
        path = ask_save_path(parent, "Export plot", f"{name}.png", "PNG image (*.png);;SVG (*.svg);;CSV data (*.csv)")
        if path:
            export_plot(plot, path, series_fn() if path.lower().endswith(".csv") else None, x_name=x_name)

    button.clicked.connect(run)
    return button


def table_export_button(parent: QWidget, table_fn: Any, name: str) -> QPushButton:
    """An "Export…" button writing ``table_fn()`` as CSV or Markdown."""
    button = QPushButton("Export…")
    button.setToolTip("Save this table as CSV or Markdown")

    def run() -> None:
        path = ask_save_path(parent, "Export table", f"{name}.csv", "CSV (*.csv);;Markdown (*.md)")
        if path:
            table = table_fn()
            text = to_markdown(table) if path.lower().endswith(".md") else to_csv(table)
            Path(path).write_text(text, encoding="utf-8")

    button.clicked.connect(run)
    return button


def run_config(session: RunSession) -> dict[str, Any]:
    """The run's config: ``run_started.config`` merged over ``{log_dir}/config.yaml`` (command-line runs)."""
    model = session.model
    config: dict[str, Any] = {}
    if model.log_dir and os.path.isfile(os.path.join(model.log_dir, "config.yaml")):
        try:
            import yaml

            with open(os.path.join(model.log_dir, "config.yaml"), encoding="utf-8") as handle:
                loaded = yaml.safe_load(handle)
            if isinstance(loaded, dict):
                config.update(loaded)
        except Exception:  # a damaged config.yaml only costs the extras it would give
            pass
    started = model.extras.get("run_started") or []
    if started:
        config.update(started[-1].get("config") or {})
    return config


def button_row(*widgets: QWidget, stretch_first: bool = False) -> QHBoxLayout:
    """A horizontal row of widgets with trailing stretch."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    if stretch_first:
        row.addStretch(1)
    for widget in widgets:
        row.addWidget(widget)
    if not stretch_first:
        row.addStretch(1)
    return row


def context_menu(parent: QWidget, actions: list[tuple[str, Any]]) -> QMenu:
    """A menu of (text, slot) pairs."""
    menu = QMenu(parent)
    for text, slot in actions:
        menu.addAction(text, slot)
    return menu
