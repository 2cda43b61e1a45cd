"""The Trainer form: every flag of studio/flag_schema.json, grouped, with defaults and help as tooltips.

Nothing here names a flag: rows are generated from the schema. A flag whose only kinds are bool becomes a check
box, a flag with a closed set of values a combo box, anything else a text field parsed as a Python literal (empty =
the default). Flags that only take Python objects (callbacks, plugins) are shown read-only: set them in the script.

A loaded config may name objects for ``logger``, ``profiler`` and ``plugins`` by class path (``{"class_path":
"CSVLogger", "init_args": {...}}``), which no editor can hold: the row then shows the object, keeps it and sends it
back unchanged until the user clears it, so loading a config and pressing Fit never drops a setting.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.models.flag_schema import (
    OBJECT_FLAGS,
    FlagError,
    FlagSchema,
    FlagSpec,
    describe_object_config,
    is_object_config,
)
from studio.qt.callbacks_box import CallbacksBox

__all__ = ["TrainerForm"]

_DEFAULT_ITEM = "(default)"


class _FlagRow:
    """The editor of one flag and how to read/write it."""

    def __init__(self, spec: FlagSpec, schema: FlagSchema, on_change: Any) -> None:
        self.spec = spec
        self.schema = schema
        tip = f"{spec.name}: {spec.help}\nAccepts {spec.describe_accepted()}. Default: {spec.default!r}."
        if spec.legacy:
            tip += "\n(1.x spelling; the 2.x spelling of this setting is preferred.)"
        self.tip = tip
        self.label = QLabel(spec.name + (" (1.x)" if spec.legacy else ""))
        self.label.setToolTip(tip)
        if spec.legacy:
            self.label.setEnabled(False)
        kinds = set(spec.kinds)
        self.widget: QWidget
        if not spec.form_editable:
            self.widget = QLabel("set in the script (takes Python objects)")
            self.widget.setEnabled(False)
            self.kind = "readonly"
        elif kinds == {"bool"}:
            box = QCheckBox()
            box.setChecked(bool(spec.default))
            box.toggled.connect(on_change)
            self.widget, self.kind = box, "bool"
        elif spec.choices and kinds <= {"str", "none", "bool"} | ({"int"} if all(
                isinstance(c, (str, int)) for c in spec.choices) else set()):
            combo = QComboBox()
            combo.addItem(_DEFAULT_ITEM, None)
            for choice in spec.choices:
                combo.addItem(str(choice), choice)
            combo.currentIndexChanged.connect(on_change)
            self.widget, self.kind = combo, "choice"
        else:
            edit = QLineEdit()
            edit.setPlaceholderText("" if spec.default is None else repr(spec.default))
            edit.textChanged.connect(on_change)
            self.widget, self.kind = edit, "text"
        self.widget.setToolTip(tip)
        # What the form shows for the row: the editor, plus (object flags) a loaded class-path object and its Clear.
        self.field = QWidget()
        line = QHBoxLayout(self.field)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.widget, 1)
        self.carried: Any = None  # a class-path object from a config, sent back as it came
        self.carried_label = QLabel()
        self.carried_label.setWordWrap(True)
        self.carried_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip(f"Forget the {spec.name} object from the config and use the field instead")
        self.clear_button.clicked.connect(lambda: (self.set_value(spec.default), on_change()))
        line.addWidget(self.carried_label, 2)
        line.addWidget(self.clear_button)
        self._show_carried()

    def _show_carried(self) -> None:
        carried = self.carried is not None
        self.carried_label.setText(f"from config: {describe_object_config(self.carried)}" if carried else "")
        for widget in (self.carried_label, self.clear_button):
            widget.setVisible(carried)
        self.widget.setVisible(not carried)

    def value(self) -> tuple[bool, Any]:
        """(changed from default, value); raises FlagError for text the flag does not accept."""
        spec = self.spec
        if self.carried is not None:
            return True, self.carried
        if self.kind == "bool":
            value = self.widget.isChecked()
            return value != bool(spec.default), value
        if self.kind == "choice":
            data = self.widget.currentData()
            if self.widget.currentIndex() <= 0:
                return False, spec.default
            return data != spec.default, data
        if self.kind == "text":
            text = self.widget.text()
            if not text.strip():
                return False, spec.default
            value = self.schema.parse(spec.name, text)
            return value != spec.default or type(value) is not type(spec.default), value
        return False, spec.default

    def set_value(self, value: Any) -> None:
        """Show ``value`` (the default clears the editor)."""
        self.carried = value if self.spec.name in OBJECT_FLAGS and is_object_config(value) else None
        self._show_carried()
        if self.carried is not None:
            value = self.spec.default  # the editor rests at the default underneath
        if self.kind == "bool":
            self.widget.setChecked(bool(value))
        elif self.kind == "choice":
            index = next((i for i in range(1, self.widget.count()) if self.widget.itemData(i) == value
                          and type(self.widget.itemData(i)) is type(value)), 0)
            self.widget.setCurrentIndex(index if value != self.spec.default or index else 0)
        elif self.kind == "text":
            self.widget.setText("" if value == self.spec.default and type(value) is type(self.spec.default)
                                else repr(value) if not isinstance(value, str) else value)


class TrainerForm(QWidget):
    """All Trainer flags, grouped as in the schema.

    Signals:
        changed(): any editor changed.
    """

    changed = Signal()

    def __init__(self, schema: FlagSchema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.schema = schema
        self.rows: dict[str, _FlagRow] = {}
        self.callbacks = CallbacksBox()
        self.callbacks.changed.connect(self._on_change)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Find a flag…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        self._groups: dict[str, QGroupBox] = {}
        for group in schema.groups:
            specs = schema.in_group(group)
            if not specs:
                continue
            box = QGroupBox(group)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for spec in sorted(specs, key=lambda s: s.legacy):
                row = _FlagRow(spec, schema, self._on_change)
                self.rows[spec.name] = row
                if spec.name == "callbacks":
                    form.addRow(row.label, self.callbacks)
                    continue
                form.addRow(row.label, row.field)
            self._groups[group] = box
            body_layout.addWidget(box)
        body_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(scroll, 1)

    def values(self) -> tuple[dict[str, Any], list[str]]:
        """(flags that differ from their defaults, problems); launch only when problems is empty."""
        flags: dict[str, Any] = {}
        problems: list[str] = []
        for name, row in self.rows.items():
            try:
                changed, value = row.value()
            except FlagError as error:
                problems.append(str(error))
                continue
            if changed:
                flags[name] = value
        problems.extend(p for p in self.schema.validate(flags) if p not in problems)
        callbacks, callback_problems = self.callbacks.value()
        if callbacks:
            flags["callbacks"] = callbacks
        return flags, problems + callback_problems

    def set_values(self, flags: dict[str, Any]) -> list[str]:
        """Show ``flags`` (others reset to defaults); returns the names the form does not know."""
        unknown = [name for name in flags if name not in self.rows]
        for name, row in self.rows.items():
            if name != "callbacks":
                row.set_value(flags.get(name, row.spec.default))
        self.callbacks.set_value(flags.get("callbacks"))
        self._on_change()
        return unknown

    def _on_change(self, *_: Any) -> None:
        for row in self.rows.values():
            try:
                changed, _value = row.value()
                error = ""
            except FlagError as problem:
                changed, error = True, str(problem)
            font = QFont(row.label.font())
            font.setBold(changed)
            row.label.setFont(font)
            row.label.setStyleSheet("color: #d64545;" if error else "")
            row.label.setToolTip(error or row.tip)  # hovering the red label says what is wrong and what it takes
        self.changed.emit()

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for group, box in self._groups.items():
            any_shown = False
            form: QFormLayout = box.layout()
            for spec in self.schema.in_group(group):
                row = self.rows[spec.name]
                shown = not needle or needle in spec.name.lower() or needle in spec.help.lower()
                if row.label.parent() is not None:
                    form.setRowVisible(row.label, shown)
                any_shown = any_shown or shown
            box.setVisible(any_shown)

    def focus_flag(self, name: str) -> None:
        """Scroll to and focus the editor of ``name``."""
        row = self.rows.get(name)
        if row is not None:
            row.widget.setFocus(Qt.FocusReason.OtherFocusReason)
