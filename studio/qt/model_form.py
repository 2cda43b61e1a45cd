"""The model (or DataModule) form: one field per constructor argument, built from the parsed signature."""

from __future__ import annotations

import ast
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from studio.models.script_info import MISSING, ClassInfo, ParamInfo

__all__ = ["ArgsForm"]


class _ArgRow:
    def __init__(self, param: ParamInfo, on_change: Any) -> None:
        self.param = param
        tip = f"{param.name}: {param.annotation or 'no annotation'}"
        if param.default_source:
            tip += f" = {param.default_source}"
        self.widget: QWidget
        if param.kind == "bool" and not param.optional:
            box = QCheckBox()
            box.setChecked(bool(param.default) if param.default is not MISSING else False)
            box.toggled.connect(on_change)
            self.widget = box
        elif param.kind == "choice":
            combo = QComboBox()
            if param.optional:
                combo.addItem("None", None)
            for choice in param.choices:
                combo.addItem(repr(choice) if not isinstance(choice, str) else choice, choice)
            if param.default is not MISSING:
                index = combo.findData(param.default)
                combo.setCurrentIndex(max(index, 0))
            combo.currentIndexChanged.connect(on_change)
            self.widget = combo
        elif param.kind == "unsupported":
            self.widget = QLabel(param.message)
            self.widget.setWordWrap(True)
            self.widget.setObjectName("argMessage")
        else:
            edit = QLineEdit()
            if param.default is not MISSING:
                edit.setText(param.default if isinstance(param.default, str) and param.kind == "str"
                             else repr(param.default))
            elif param.default_source:
                edit.setPlaceholderText(f"script default: {param.default_source}")
            else:
                edit.setPlaceholderText("required")
            if param.message:
                tip += "\n" + param.message
            edit.textChanged.connect(on_change)
            self.widget = edit
        self.widget.setToolTip(tip)

    def value(self) -> tuple[bool, Any]:
        """(set, value): set is False when the script's default applies. Raises ValueError with a message."""
        param = self.param
        if isinstance(self.widget, QCheckBox):
            value = self.widget.isChecked()
            return value != param.default, value
        if isinstance(self.widget, QComboBox):
            value = self.widget.currentData()
            return value != param.default, value
        if isinstance(self.widget, QLabel):
            return False, None
        text = self.widget.text()
        if not text.strip():
            if param.required:
                raise ValueError(f"{param.name}: required (the constructor has no default); enter a value.")
            if param.optional and param.default is not MISSING and param.default is not None:
                return True, None
            return False, None
        value = _parse(param, text)
        return (param.default is MISSING or value != param.default or type(value) is not type(param.default)), value

    def set_value(self, value: Any) -> None:
        if isinstance(self.widget, QCheckBox):
            self.widget.setChecked(bool(value))
        elif isinstance(self.widget, QComboBox):
            self.widget.setCurrentIndex(max(self.widget.findData(value), 0))
        elif isinstance(self.widget, QLineEdit):
            self.widget.setText(value if isinstance(value, str) and self.param.kind == "str" else repr(value))


def _parse(param: ParamInfo, text: str) -> Any:
    kind = param.kind
    stripped = text.strip()
    if param.optional and stripped == "None":
        return None
    if kind == "str":
        return text
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError) as error:
        raise ValueError(f"{param.name}: {stripped!r} is not a Python literal ({kind} expected), e.g. "
                         f"{'3' if kind == 'int' else '0.01' if kind == 'float' else '[1, 2]'}.") from error
    if kind == "int" and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ValueError(f"{param.name}: {stripped!r} is not an integer.")
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{param.name}: {stripped!r} is not a number.")
        value = float(value)
    if kind == "bool" and not isinstance(value, bool):
        raise ValueError(f"{param.name}: {stripped!r} is not True or False.")
    return value


class ArgsForm(QWidget):
    """Constructor arguments of one class (a LightningModule or a LightningDataModule).

    Signals:
        changed(): a field changed.
    """

    changed = Signal()

    def __init__(self, title: str = "Model arguments", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.info: ClassInfo | None = None
        self.rows: dict[str, _ArgRow] = {}
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.form_host)
        layout.addStretch(1)
        self.set_class(None)

    def set_class(self, info: ClassInfo | None, values: dict[str, Any] | None = None) -> None:
        """Rebuild the fields for ``info`` and fill in ``values`` (the script's defaults otherwise)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.rows.clear()
        self.info = info
        if info is None:
            self.header.setText(f"<i>{self.title}: choose a class first</i>")
            return
        lines = [f"<b>{info.name}</b> (line {info.line})"]
        if info.doc:
            lines.append(info.doc)
        if not info.params:
            lines.append("<i>The constructor takes no arguments.</i>")
        if info.takes_var_kwargs:
            lines.append("<i>It also takes **kwargs, which the form does not fill.</i>")
        self.header.setText("<br>".join(lines))
        for param in info.params:
            row = _ArgRow(param, lambda *_: self.changed.emit())
            self.rows[param.name] = row
            label = QLabel(param.name + ("*" if param.required else ""))
            label.setToolTip(row.widget.toolTip())
            self.form.addRow(label, row.widget)
        for name, value in (values or {}).items():
            if name in self.rows:
                self.rows[name].set_value(value)

    def set_first_of(self, names: tuple[str, ...], value: Any) -> str | None:
        """Set the first argument of ``names`` the class takes to ``value``; returns its name (None: none taken)."""
        for name in names:
            if name in self.rows:
                self.rows[name].set_value(value)
                return name
        return None

    def values(self) -> tuple[dict[str, Any], list[str]]:
        """(init_args that differ from the defaults, problems)."""
        out: dict[str, Any] = {}
        problems = []
        for name, row in self.rows.items():
            try:
                changed, value = row.value()
            except ValueError as error:
                problems.append(str(error))
                continue
            if changed:
                out[name] = value
        return out, problems
