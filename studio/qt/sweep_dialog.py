"""The Sweep dialog: every model argument and numeric Trainer flag as a row with a "sweep" toggle and its range.

A ticked row becomes a search range (float: low/high/log; int: low/high/step; choice: the values, comma separated);
the rest keep the forms' values. The dialog also takes the metric and direction (empty: the run's
ModelCheckpoint/EarlyStopping monitor), the number of trials, how many run at once, the sampler and the pruner. It
returns the sweep in the file shape ``trainer-core sweep --sweep`` reads; the engine checks it again before any
trial starts and names the field of anything wrong.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

__all__ = ["Candidate", "SweepDialog", "SweepRequest", "default_range"]


@dataclass(frozen=True)
class Candidate:
    """A value the user may search over: ``model.lr``, ``trainer.accumulate_grad_batches``..."""

    name: str
    kind: str  # "float", "int" or "categorical"
    current: Any = None
    choices: tuple[Any, ...] = ()


@dataclass
class SweepRequest:
    """What the dialog returns."""

    sweep: dict[str, Any]
    n_trials: int
    parallel: int


def default_range(candidate: Candidate) -> tuple[str, str, bool, str]:
    """Suggested (low, high, log, step) texts around the current value: a decade each way on a log scale for a
    positive float, a quarter to four times for an int."""
    value = candidate.current
    if candidate.kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and math.isfinite(value):
            return f"{value / 10:.3g}", f"{value * 10:.3g}", True, ""
        return "0.0", "1.0", False, ""
    if candidate.kind == "int":
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return str(max(1, value // 4)), str(value * 4), False, ""
        return "1", "8", False, "1"
    return "", "", False, ""


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


class _Row:
    """The widgets of one candidate row."""

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate
        self.toggle = QCheckBox(candidate.name)
        self.toggle.setToolTip(f"Search over {candidate.name} (now {candidate.current!r})")
        low, high, log, step = default_range(candidate)
        self.low, self.high, self.step = QLineEdit(low), QLineEdit(high), QLineEdit(step)
        self.log = QCheckBox("log")
        self.log.setChecked(log)
        choices = candidate.choices or ((True, False) if isinstance(candidate.current, bool) else ())
        self.choices = QLineEdit(", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices))
        self.choices.setPlaceholderText("values, comma separated")
        for widget in (self.low, self.high, self.step):
            widget.setMaximumWidth(90)
        self.low.setPlaceholderText("low")
        self.high.setPlaceholderText("high")
        self.step.setPlaceholderText("step")
        self.toggle.toggled.connect(self._enable)
        self._enable(False)

    def widgets(self) -> list[QWidget]:
        if self.candidate.kind == "categorical":
            return [self.toggle, self.choices]
        return [self.toggle, self.low, self.high, self.log, self.step]

    def _enable(self, on: bool) -> None:
        for widget in self.widgets()[1:]:
            widget.setEnabled(on)

    def spec(self) -> dict[str, Any]:
        """The parameter in the sweep file's shape.

        Raises:
            ValueError: a range that cannot be searched, naming the row.
        """
        name = self.candidate.name
        if self.candidate.kind == "categorical":
            values = [_literal(v) for v in self.choices.text().split(",") if v.strip()]
            if len(values) < 2:
                raise ValueError(f"{name}: list at least two values to choose from.")
            return {"type": "categorical", "choices": values}
        kind = self.candidate.kind
        convert = int if kind == "int" else float
        try:
            low, high = convert(self.low.text()), convert(self.high.text())
            step = convert(self.step.text()) if self.step.text().strip() else None
        except ValueError:
            raise ValueError(f"{name}: low, high and step must be {'whole ' if kind == 'int' else ''}numbers.") \
                from None
        if not low < high:
            raise ValueError(f"{name}: low must be smaller than high.")
        if self.log.isChecked() and low <= 0:
            raise ValueError(f"{name}: a log range needs low > 0.")
        out: dict[str, Any] = {"type": kind, "low": low, "high": high}
        if self.log.isChecked():
            out["log"] = True
        elif step is not None:
            out["step"] = step
        return out


class SweepDialog(QDialog):
    """Ask which values to search and how (see the module docstring)."""

    def __init__(self, candidates: list[Candidate], *, metrics: list[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sweep hyper-parameters")
        self.rows = [_Row(c) for c in candidates]
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        for r, row in enumerate(self.rows):
            for c, widget in enumerate(row.widgets()):
                span = 4 if (row.candidate.kind == "categorical" and c == 1) else 1
                grid.addWidget(widget, r, c, 1, span)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_widget)
        self.metric = QComboBox()
        self.metric.setEditable(True)
        self.metric.addItems(["", *metrics])
        self.metric.setToolTip("Empty: the metric the run's ModelCheckpoint or EarlyStopping monitors")
        self.direction = QComboBox()
        self.direction.addItems(["from the monitor", "minimize", "maximize"])
        self.sampler = QComboBox()
        self.sampler.addItems(["tpe", "random", "grid"])
        self.pruner = QComboBox()
        self.pruner.addItems(["none", "median", "hyperband"])
        self.n_trials = QSpinBox()
        self.n_trials.setRange(1, 10_000)
        self.n_trials.setValue(16)
        self.parallel = QSpinBox()
        self.parallel.setRange(1, 64)
        self.parallel.setValue(1)
        self.parallel.setToolTip("Trials running at once: each gets its own GPU when there are several; on the CPU "
                                 "the cores are split between them")
        form = QFormLayout()
        for label, widget in (("Metric", self.metric), ("Direction", self.direction), ("Sampler", self.sampler),
                              ("Pruner", self.pruner), ("Trials", self.n_trials), ("At once", self.parallel)):
            form.addRow(label, widget)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c03030")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start sweep")
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tick the values to search; the others keep the forms' values."))
        layout.addWidget(scroll, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.request: SweepRequest | None = None

    def build_request(self) -> SweepRequest:
        """The sweep as ticked.

        Raises:
            ValueError: nothing ticked, or a row's range is unusable (the message names the row).
        """
        params = {row.candidate.name: row.spec() for row in self.rows if row.toggle.isChecked()}
        if not params:
            raise ValueError("Tick at least one value to search.")
        sweep: dict[str, Any] = {"sampler": self.sampler.currentText(), "pruner": self.pruner.currentText(),
                                 "parameters": params}
        if self.metric.currentText().strip():
            sweep["metric"] = self.metric.currentText().strip()
        if self.direction.currentIndex() > 0:
            sweep["direction"] = self.direction.currentText()
        return SweepRequest(sweep=sweep, n_trials=self.n_trials.value(), parallel=self.parallel.value())

    def _on_accept(self) -> None:
        try:
            self.request = self.build_request()
        except ValueError as err:
            self.error.setText(str(err))
            return
        self.accept()
