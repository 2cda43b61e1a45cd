"""Early stopping and checkpointing in the Trainer form, sent as ``callbacks`` class_path entries.

The schema's ``callbacks`` flag takes Python objects, which a form cannot hold; the command line and config files
accept ``{"class_path": "EarlyStopping", "init_args": {...}}`` instead (trainer_core.loading.objects), so this box
edits those two common callbacks and keeps any other class_path entries it was given untouched. Arguments of the two
that the box has no field for (``stopping_threshold``, ``dirpath``, ``every_n_epochs``, ...) are kept as they came
and sent back with the fields' values, so a loaded config never loses them.
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
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

__all__ = ["CallbacksBox"]

_EARLY_FIELDS = ("monitor", "mode", "patience", "min_delta")
_CHECKPOINT_FIELDS = ("monitor", "mode", "save_top_k", "save_last")


class CallbacksBox(QWidget):
    """Two optional callbacks with their main arguments.

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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.early)
        layout.addWidget(self.ckpt)
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
        return entries, problems

    def set_value(self, entries: Any) -> None:
        """Show ``callbacks`` entries (class_path dicts or names); unknown ones are kept as they are."""
        self.early.setChecked(False)
        self.ckpt.setChecked(False)
        self._others = []
        self._es_extra, self._ck_extra = {}, {}
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
            else:
                self._others.append(entry)
