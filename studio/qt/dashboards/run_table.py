"""The Runs table: one row per run with its name, tags, parent, hyper-parameters and chosen metrics' statistics.

Name and tags are edited in place and saved to the run's ``run.yaml``; every column sorts (numbers numerically,
empty cells last) and the filter matches any cell (name, tags, notes, status, hyper-parameter values).
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)

from studio.models.dashboards.history import RunSummary
from studio.models.dashboards.run_meta import save_meta
from studio.qt.dashboards.common import fmt_num

__all__ = ["BASE_COLUMNS", "STAT_KINDS", "RunTableModel", "RunFilterModel", "SORT_ROLE"]

BASE_COLUMNS = ["Run", "Tags", "Status", "Started", "Duration", "Mode", "Weights from"]
# "Resumed from" read wrong on a Validate/Test/Predict row: those evaluate a run's checkpoint, they resume nothing.
_HEADER_TIPS = {"Weights from": "The run whose checkpoint this one started from: a Fit resumed its training, "
                                "Validate, Test and Predict evaluated its weights"}
STAT_KINDS = ("last", "best", "min", "max")
SORT_ROLE = int(Qt.ItemDataRole.UserRole) + 1
_Index = QModelIndex | QPersistentModelIndex


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class RunTableModel(QAbstractTableModel):
    """Runs as rows; columns are :data:`BASE_COLUMNS`, then ``hp:<name>`` and ``<metric> <stat>`` columns.

    Signals:
        meta_saved(str): a run's ``run.yaml`` was written (its folder).
        check_changed(): the ticked runs changed.
    """

    meta_saved = Signal(str)
    check_changed = Signal()
    save_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs: list[RunSummary] = []
        self.hparams: list[str] = []
        self.metrics: list[str] = []
        self.checked: set[str] = set()
        self._titles: dict[str, str] = {}

    # --- contents ---------------------------------------------------------------------------------------------
    def set_runs(self, runs: list[RunSummary], metrics: list[str]) -> None:
        """Show ``runs`` with statistics columns for ``metrics``; hyper-parameter columns come from the runs."""
        self.beginResetModel()
        self.runs = list(runs)
        names: list[str] = []
        for run in runs:
            names.extend(k for k in run.hparams if k not in names)
        self.hparams = names
        self.metrics = list(metrics)
        self._titles = {run.path: run.title for run in runs}
        self.checked &= {run.path for run in runs}
        self.endResetModel()

    def headers(self) -> list[str]:
        """Every column's header."""
        return (BASE_COLUMNS + [f"hp: {h}" for h in self.hparams]
                + [f"{m} {kind}" for m in self.metrics for kind in STAT_KINDS])

    def run_at(self, row: int) -> RunSummary:
        """The run shown in source ``row``."""
        return self.runs[row]

    def value(self, run: RunSummary, column: int) -> Any:
        """The raw cell value (numbers stay numbers, for sorting and the parallel-coordinates view)."""
        if column < len(BASE_COLUMNS):
            return [run.title, ", ".join(run.meta.tags), run.status, run.started or math.nan, run.duration_s,
                    run.mode or "", self._titles.get(run.parent or "", run.parent or "")][column]
        column -= len(BASE_COLUMNS)
        if column < len(self.hparams):
            return run.hparams.get(self.hparams[column])
        metric, kind = divmod(column - len(self.hparams), len(STAT_KINDS))
        stats = run.stats.get(self.metrics[metric])
        return getattr(stats, STAT_KINDS[kind]) if stats is not None else math.nan

    # --- Qt model API -----------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        return 0 if parent.isValid() else len(self.headers())

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        headers = self.headers()
        if role == Qt.ItemDataRole.ToolTipRole and section < len(headers):
            return _HEADER_TIPS.get(headers[section], headers[section])
        if role == Qt.ItemDataRole.DisplayRole and section < len(headers):
            return headers[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.column() == 0:
            return base | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable
        if index.column() == 1:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        run = self.runs[index.row()]
        column = index.column()
        value = self.value(run, column)
        if role == SORT_ROLE:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return (0, -math.inf if math.isnan(value) else float(value))
            return (1, "" if value is None else str(value).lower())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if column == 3:
                return time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)) if run.started else ""
            if column == 4:
                return _duration(run.duration_s)
            return fmt_num(value) if role == Qt.ItemDataRole.DisplayRole else str(value or "")
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return Qt.CheckState.Checked if run.path in self.checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0:
                notes = f"\n\n{run.meta.notes}" if run.meta.notes else ""
                return f"{run.path}{notes}"
            if column == 6 and run.parent:
                return run.parent
            return str(value) if value is not None else None
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)) and column > 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if not index.isValid():
            return False
        run = self.runs[index.row()]
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == 0:
            # Views pass the state as an int, code as the enum.
            if Qt.CheckState(value) == Qt.CheckState.Checked:
                self.checked.add(run.path)
            else:
                self.checked.discard(run.path)
            self.dataChanged.emit(index, index, [role])
            self.check_changed.emit()
            return True
        if role != Qt.ItemDataRole.EditRole or index.column() not in (0, 1):
            return False
        text = str(value).strip()
        if index.column() == 0:
            run.meta.name = text if text != run.default_title else ""
        else:
            run.meta.tags = [t.strip() for t in text.split(",") if t.strip()]
        return self.save(run, index)

    def save(self, run: RunSummary, index: _Index | None = None) -> bool:
        """Write ``run``'s name/tags/notes to its ``run.yaml``; False (and ``save_failed``) when that failed."""
        try:
            save_meta(run.path, run.meta)
        except OSError as error:
            self.save_failed.emit(f"Could not save the run's name and tags to {run.path}/run.yaml: {error}. "
                                  "Check that the folder is writable.")
            return False
        self._titles[run.path] = run.title
        if index is not None:
            self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), self.columnCount() - 1))
        else:
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))
        self.meta_saved.emit(run.path)
        return True


class RunFilterModel(QSortFilterProxyModel):
    """Sorts by raw values (numbers numerically) and keeps rows where any cell or the notes contain the filter."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._text = ""

    def set_text(self, text: str) -> None:
        """The filter text (case-insensitive; several words must all match)."""
        self.beginFilterChange()  # Qt 6.10's replacement for the deprecated invalidateFilter()
        self._text = text.lower().strip()
        self.endFilterChange()

    def lessThan(self, left: _Index, right: _Index) -> bool:  # noqa: N802 - Qt API
        return bool(left.data(SORT_ROLE) < right.data(SORT_ROLE))

    def filterAcceptsRow(self, row: int, parent: _Index) -> bool:  # noqa: N802 - Qt API
        if not self._text:
            return True
        model = self.sourceModel()
        if not isinstance(model, RunTableModel):
            return True
        run = model.run_at(row)
        cells = [str(model.data(model.index(row, c))) for c in range(model.columnCount())]
        haystack = " ".join(cells + [run.meta.notes, run.path]).lower()
        return all(word in haystack for word in self._text.split())
