"""The callbacks a user turns on without code, in the Trainer form, sent as ``callbacks`` class_path entries.

The schema's ``callbacks`` flag takes Python objects, which a form cannot hold; the command line and config files
accept ``{"class_path": "EarlyStopping", "init_args": {...}}`` instead (trainer_core.loading.objects), so this box
edits EarlyStopping and ModelCheckpoint with their main arguments, offers LearningRateMonitor, DeviceStatsMonitor,
StochasticWeightAveraging and ModelSummary as tick boxes, and keeps any other class_path entries it was given
untouched. Arguments the box has no field for (``stopping_threshold``, ``dirpath``, ``every_n_epochs``, ...) are kept
as they came and sent back with the fields' values, so a loaded config never loses them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

__all__ = ["CallbacksBox", "OPTIONAL_CALLBACKS"]

OPTIONAL_CALLBACKS: tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...] = (
    ("LearningRateMonitor", "Log every optimizer's learning rate (fills the Learning rate tab)",
     (("logging_interval", ("", "step", "epoch")),)),
    ("DeviceStatsMonitor", "Log CPU and GPU memory and utilisation as metrics during training", ()),
    ("StochasticWeightAveraging", "Average the weights over the last part of training (swa_epoch_start: the "
     "fraction of max_epochs after which averaging starts)", (("swa_epoch_start", 0.8),)),
    ("ModelSummary", "The weights table at the start of a fit, to this depth (-1: every layer)", (("max_depth", 1),)),
)
"""(class name, what it does, ((argument, default or choices), ...)) of the tick-box callbacks."""


class _OptionalCallback(QWidget):
    """A tick box for one callback and fields for its few arguments ("" in a choice list means None)."""

    def __init__(self, name: str, tip: str, fields: tuple[tuple[str, Any], ...], on_change: Any) -> None:
        super().__init__()
        self.name = name
        self.extra: dict[str, Any] = {}
        self.check = QCheckBox(name)
        self.check.setToolTip(tip)
        self.check.toggled.connect(lambda *_: on_change())
        self.fields: dict[str, QWidget] = {}
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.check)
        for arg, default in fields:
            widget: QWidget
            if isinstance(default, tuple):
                widget = QComboBox()
                widget.addItems([choice or "(each scheduler's own)" for choice in default])
            elif isinstance(default, float):
                widget = QDoubleSpinBox()
                widget.setRange(0.0, 1e6)
                widget.setValue(default)
            else:
                widget = QSpinBox()
                widget.setRange(-1, 1000)
                widget.setValue(int(default))
            widget.setToolTip(f"{name}({arg}=...)")
            self.fields[arg] = widget
            row.addWidget(QLabel(arg))
            row.addWidget(widget)
        row.addStretch(1)

    def entry(self) -> dict[str, Any]:
        """The class_path entry of the ticked callback."""
        args = dict(self.extra)
        for arg, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                text = widget.currentText()
                args[arg] = None if text.startswith("(") else text
            else:
                args[arg] = widget.value()  # type: ignore[attr-defined]
        return {"class_path": self.name, "init_args": args}

    def show_args(self, args: dict[str, Any]) -> None:
        """Tick the box and show ``args``; those without a field are kept for :meth:`entry`."""
        self.check.setChecked(True)
        for arg, widget in self.fields.items():
            if arg not in args:
                continue
            value = args[arg]
            if isinstance(widget, QComboBox):
                index = widget.findText(str(value)) if value else 0
                widget.setCurrentIndex(max(index, 0))
            else:
                widget.setValue(value)  # type: ignore[attr-defined]
        self.extra = {k: v for k, v in args.items() if k not in self.fields}

_EARLY_FIELDS = ("monitor", "mode", "patience", "min_delta")
_CHECKPOINT_FIELDS = ("monitor", "mode", "save_top_k", "save_last")


class CallbacksBox(QWidget):
    """EarlyStopping and ModelCheckpoint with their main arguments, and the tick-box callbacks.

    Signals:
        changed(): any field changed.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._others: list[Any] = []
        # init_args the fields do not show, per callback: kept from set_value and sent back by value().
        self._es_extra: dict[str, Any] = {}
        self._ck_extra: dict[str, Any] = {}
        self.early = QGroupBox("EarlyStopping")
        self.early.setCheckable(True)
        self.early.setChecked(False)
        self.early.setToolTip("Stop training when the monitored metric stops improving")
        self.es_monitor = QLineEdit("val_loss")
        self.es_mode = QComboBox()
        self.es_mode.addItems(["min", "max"])
        self.es_patience = QSpinBox()
        self.es_patience.setRange(0, 100_000)
        self.es_patience.setValue(3)
        self.es_min_delta = QDoubleSpinBox()
        self.es_min_delta.setDecimals(6)
        self.es_min_delta.setRange(0.0, 1e12)
        self.es_min_delta.setToolTip("The smallest change of the monitored metric that counts as an improvement")
        form = QFormLayout(self.early)
        form.addRow("monitor", self.es_monitor)
        form.addRow("mode", self.es_mode)
        form.addRow("patience", self.es_patience)
        form.addRow("min_delta", self.es_min_delta)

        self.ckpt = QGroupBox("ModelCheckpoint")
        self.ckpt.setCheckable(True)
        self.ckpt.setChecked(False)
        self.ckpt.setToolTip("Keep the best checkpoints by a monitored metric (replaces the default checkpointing)")
        self.ck_monitor = QLineEdit("val_loss")
        self.ck_mode = QComboBox()
        self.ck_mode.addItems(["min", "max"])
        self.ck_top_k = QSpinBox()
        self.ck_top_k.setRange(-1, 1000)
        self.ck_top_k.setValue(1)
        self.ck_last = QCheckBox("save_last")
        self.ck_last.setChecked(True)
        form = QFormLayout(self.ckpt)
        form.addRow("monitor", self.ck_monitor)
        form.addRow("mode", self.ck_mode)
        form.addRow("save_top_k", self.ck_top_k)
        form.addRow("", self.ck_last)
        self.optional = {name: _OptionalCallback(name, tip, fields, self.changed.emit)
                         for name, tip, fields in OPTIONAL_CALLBACKS}
        more = QGroupBox("More callbacks")
        more_layout = QVBoxLayout(more)
        for widget in self.optional.values():
            more_layout.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.early)
        layout.addWidget(self.ckpt)
        layout.addWidget(more)
        for box in (self.early, self.ckpt):
            box.toggled.connect(lambda *_: self.changed.emit())

    def value(self) -> tuple[list[Any], list[str]]:
        """(``callbacks`` entries, problems)."""
        entries = list(self._others)
        problems = []
        if self.early.isChecked():
            if not self.es_monitor.text().strip():
                problems.append("EarlyStopping: give the metric to monitor (for example val_loss).")
            entries.append({"class_path": "EarlyStopping", "init_args": {
                **self._es_extra, "monitor": self.es_monitor.text().strip(), "mode": self.es_mode.currentText(),
                "patience": self.es_patience.value(), "min_delta": self.es_min_delta.value()}})
        if self.ckpt.isChecked():
            init_args: dict[str, Any] = {**self._ck_extra, "mode": self.ck_mode.currentText(),
                                         "save_top_k": self.ck_top_k.value(), "save_last": self.ck_last.isChecked()}
            if self.ck_monitor.text().strip():
                init_args["monitor"] = self.ck_monitor.text().strip()
            entries.append({"class_path": "ModelCheckpoint", "init_args": init_args})
        entries += [widget.entry() for widget in self.optional.values() if widget.check.isChecked()]
        return entries, problems

    def set_value(self, entries: Any) -> None:
        """Show ``callbacks`` entries (class_path dicts or names); unknown ones are kept as they are."""
        self.early.setChecked(False)
        self.ckpt.setChecked(False)
        self._others = []
        self._es_extra, self._ck_extra = {}, {}
        for widget in self.optional.values():
            widget.check.setChecked(False)
            widget.extra = {}
        for entry in entries if isinstance(entries, list) else []:
            spec = {"class_path": entry} if isinstance(entry, str) else entry
            name = str(spec.get("class_path", "")).rsplit(".", 1)[-1] if isinstance(spec, dict) else ""
            args = (spec.get("init_args") or {}) if isinstance(spec, dict) else {}
            if name == "EarlyStopping":
                self.early.setChecked(True)
                self.es_monitor.setText(str(args.get("monitor", "val_loss")))
                self.es_mode.setCurrentText(str(args.get("mode", "min")))
                self.es_patience.setValue(int(args.get("patience", 3)))
                self.es_min_delta.setValue(float(args.get("min_delta", 0.0)))
                self._es_extra = {k: v for k, v in args.items() if k not in _EARLY_FIELDS}
            elif name == "ModelCheckpoint":
                self.ckpt.setChecked(True)
                self.ck_monitor.setText(str(args.get("monitor") or ""))
                self.ck_mode.setCurrentText(str(args.get("mode", "min")))
                self.ck_top_k.setValue(int(args.get("save_top_k", 1)))
                self.ck_last.setChecked(bool(args.get("save_last", False)))
                self._ck_extra = {k: v for k, v in args.items() if k not in _CHECKPOINT_FIELDS}
            elif name in self.optional:
                self.optional[name].show_args(dict(args))
            else:
                self._others.append(entry)
