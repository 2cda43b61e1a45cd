"""The project panel: the model script and its class, the data source, and the checkpoint to evaluate or resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.models.script_info import ClassInfo, ScriptInfo, parse_script
from studio.qt.model_form import ArgsForm

__all__ = ["ProjectPanel", "DATA_SUFFIXES"]

DATA_SUFFIXES = (".csv", ".npz", ".pt", ".pth")


def _path_row(edit: QLineEdit, button: QPushButton, *extra: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(button)
    for widget in extra:
        row.addWidget(widget)
    return row


class ProjectPanel(QWidget):
    """Model script + class, data (model's loaders / DataModule / data file), resume checkpoint.

    Signals:
        script_opened(str): a model script was opened and parsed (the window adds it to the recent files).
        model_class_changed(): the chosen LightningModule changed (the window rebuilds the model form).
    """

    script_opened = Signal(str)
    model_class_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.script_info: ScriptInfo | None = None
        self.data_info: ScriptInfo | None = None

        self.script_edit = QLineEdit()
        self.script_edit.setPlaceholderText("a Python file with a LightningModule subclass")
        self.script_edit.editingFinished.connect(lambda: self.open_script(self.script_edit.text()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_script)
        self.class_combo = QComboBox()
        self.class_combo.currentIndexChanged.connect(lambda _: self.model_class_changed.emit())
        self.script_message = QLabel()
        self.script_message.setWordWrap(True)
        self.script_message.setObjectName("scriptMessage")
        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        model_form.addRow("Script", _path_row(self.script_edit, browse))
        model_form.addRow("LightningModule", self.class_combo)
        model_form.addRow(self.script_message)

        self.data_own = QRadioButton("The model's own *_dataloader methods")
        self.data_module = QRadioButton("A LightningDataModule class")
        self.data_file = QRadioButton("A data file or image folder")
        self.data_file.setToolTip("CSV, .npz or .pt file, or a folder of images in one subfolder per class")
        self.data_own.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.data_own, self.data_module, self.data_file):
            group.addButton(button)
            button.toggled.connect(self._sync_data)
        self.dm_script = QLineEdit()
        self.dm_script.setPlaceholderText("script defining the DataModule (empty: the model script)")
        self.dm_script.editingFinished.connect(self._parse_dm_script)
        dm_browse = QPushButton("Browse…")
        dm_browse.clicked.connect(self._browse_dm)
        self.dm_combo = QComboBox()
        self.dm_combo.currentIndexChanged.connect(self._on_dm_class)
        self.dm_args = ArgsForm("DataModule arguments")
        self.dm_host = QWidget()
        dm_form = QFormLayout(self.dm_host)
        dm_form.setContentsMargins(16, 0, 0, 0)
        dm_form.addRow("Script", _path_row(self.dm_script, dm_browse))
        dm_form.addRow("Class", self.dm_combo)
        dm_form.addRow(self.dm_args)

        self.data_path = QLineEdit()
        self.data_path.setPlaceholderText("data.csv, data.npz, data.pt or a folder of class subfolders")
        file_button = QPushButton("File…")
        file_button.clicked.connect(self._browse_data_file)
        folder_button = QPushButton("Folder…")
        folder_button.clicked.connect(self._browse_data_folder)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1_000_000)
        self.batch_size.setValue(32)
        self.val_split = QDoubleSpinBox()
        self.val_split.setRange(0.0, 0.95)
        self.val_split.setSingleStep(0.05)
        self.val_split.setValue(0.2)
        self.shuffle = QCheckBox("Shuffle training batches")
        self.shuffle.setChecked(True)
        self.target = QLineEdit()
        self.target.setPlaceholderText("CSV target column (default: target/label/y/class, else the last)")
        self.file_host = QWidget()
        file_form = QFormLayout(self.file_host)
        file_form.setContentsMargins(16, 0, 0, 0)
        file_form.addRow("Path", _path_row(self.data_path, file_button, folder_button))
        file_form.addRow("Batch size", self.batch_size)
        file_form.addRow("Validation split", self.val_split)
        file_form.addRow("", self.shuffle)
        file_form.addRow("Target", self.target)

        data_box = QGroupBox("Data")
        data_layout = QVBoxLayout(data_box)
        data_layout.addWidget(self.data_own)
        data_layout.addWidget(self.data_module)
        data_layout.addWidget(self.dm_host)
        data_layout.addWidget(self.data_file)
        data_layout.addWidget(self.file_host)

        self.ckpt_edit = QLineEdit()
        self.ckpt_edit.setPlaceholderText("optional: the weights Validate, Test and Predict use (set after a Fit)")
        self.ckpt_edit.textEdited.connect(lambda _: self.ckpt_note.setText(""))
        ckpt_browse = QPushButton("Browse…")
        ckpt_browse.clicked.connect(self._browse_ckpt)
        # Resuming is an explicit choice: a Fit with this unticked starts from fresh weights whatever the field holds.
        self.resume_fit = QCheckBox("Resume from here")
        self.resume_fit.setToolTip("The next Fit continues this checkpoint's training (epoch, step, optimizer "
                                   "state); unticked, a Fit starts from fresh weights")
        self.ckpt_note = QLabel()
        self.ckpt_note.setObjectName("checkpointNote")
        self.ckpt_note.setWordWrap(True)
        ckpt_box = QGroupBox("Checkpoint")
        ckpt_form = QFormLayout(ckpt_box)
        ckpt_form.addRow("Weights", _path_row(self.ckpt_edit, ckpt_browse))
        ckpt_form.addRow("", self.resume_fit)
        ckpt_form.addRow(self.ckpt_note)

        # seed_everything: and tune: of a loaded config are shown, sent with every run and saved again.
        self.seed = QLineEdit()
        self.seed.setPlaceholderText("none: different weights and shuffling every run")
        self.seed.setValidator(QIntValidator(0, 2**31 - 1, self.seed))
        self.seed.setToolTip("seed_everything: the same seed gives the same run every time (weights, shuffling)")
        self.tune_settings: dict[str, Any] = {}
        self.debug_mode = "fast_dev_run"
        self.tune_note = QLabel()
        self.tune_note.setObjectName("tuneNote")
        self.tune_note.setWordWrap(True)
        run_box = QGroupBox("Run")
        run_form = QFormLayout(run_box)
        run_form.addRow("Seed", self.seed)
        run_form.addRow(self.tune_note)
        self.set_run_settings(None, {}, "fast_dev_run")

        layout = QVBoxLayout(self)
        layout.addWidget(model_box)
        layout.addWidget(data_box)
        layout.addWidget(ckpt_box)
        layout.addWidget(run_box)
        layout.addStretch(1)
        self._sync_data()

    # --- model script -----------------------------------------------------------------------------------------
    def open_script(self, path: str) -> ScriptInfo | None:
        """Parse ``path`` and list its classes (nothing of the script runs)."""
        if not path:
            return None
        path = os.path.abspath(os.path.expanduser(path))
        if self.script_info is not None and self.script_info.path == path and not self.script_info.error:
            return self.script_info
        info = parse_script(path)
        self.script_info = info
        self.script_edit.setText(path)
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for cls in info.modules:
            self.class_combo.addItem(cls.name, cls.name)
        self.class_combo.blockSignals(False)
        self.script_message.setText(info.error)
        self.script_message.setVisible(bool(info.error))
        if not info.error:
            self.script_opened.emit(path)
            if info.datamodules and not self.dm_script.text():
                self._fill_dm(info)
        self.model_class_changed.emit()
        return info

    def model_class(self) -> ClassInfo | None:
        """The chosen LightningModule class."""
        if self.script_info is None:
            return None
        return self.script_info.find(self.class_combo.currentData())

    def select_model_class(self, name: str | None) -> None:
        """Pick ``name`` in the class list (ignored when absent)."""
        if name:
            index = self.class_combo.findData(name)
            if index >= 0:
                self.class_combo.setCurrentIndex(index)

    # --- data -------------------------------------------------------------------------------------------------
    def data_config(self) -> tuple[dict[str, Any] | None, list[str]]:
        """(the RunSpec ``data`` dict, problems)."""
        if self.data_module.isChecked():
            script = self.dm_script.text().strip() or self.script_edit.text().strip()
            name = self.dm_combo.currentData()
            if not name:
                return None, ["Data: the DataModule script defines no LightningDataModule class; choose another "
                              "script or another data source."]
            init_args, problems = self.dm_args.values()
            return {"script": script, "class": name, "init_args": init_args}, problems
        if self.data_file.isChecked():
            path = self.data_path.text().strip()
            if not path or not os.path.exists(path):
                return None, [f"Data: {path or 'no path'} does not exist; choose a CSV, .npz or .pt file or a "
                              "folder of images in class subfolders."]
            if os.path.isfile(path) and not path.lower().endswith(DATA_SUFFIXES):
                return None, [f"Data: {os.path.basename(path)} is not a supported data file; use .csv, .npz, .pt "
                              "or a folder of class subfolders."]
            data: dict[str, Any] = {"path": path, "batch_size": self.batch_size.value(),
                                    "val_split": round(self.val_split.value(), 4), "shuffle": self.shuffle.isChecked()}
            if self.target.text().strip():
                target = self.target.text().strip()
                data["target"] = int(target) if target.lstrip("-").isdigit() else target
            return data, []
        return None, []

    def set_data_config(self, data: dict[str, Any] | None) -> None:
        """Show a RunSpec ``data`` dict."""
        if not data:
            self.data_own.setChecked(True)
        elif data.get("script") or data.get("class"):
            self.data_module.setChecked(True)
            script = data.get("script") or ""
            self.dm_script.setText(script)
            self._parse_dm_script()
            index = self.dm_combo.findData(data.get("class"))
            if index >= 0:
                self.dm_combo.setCurrentIndex(index)
            self.dm_args.set_class(self._dm_class(), data.get("init_args") or {})
        else:
            self.data_file.setChecked(True)
            self.data_path.setText(str(data.get("path") or ""))
            self.batch_size.setValue(int(data.get("batch_size") or 32))
            self.val_split.setValue(float(data.get("val_split", 0.2)))
            self.shuffle.setChecked(bool(data.get("shuffle", True)))
            self.target.setText("" if data.get("target") is None else str(data["target"]))
        self._sync_data()

    def set_data_path(self, path: str) -> None:
        """Use a data file/folder (drag and drop)."""
        self.data_file.setChecked(True)
        self.data_path.setText(path)

    def _sync_data(self) -> None:
        self.dm_host.setVisible(self.data_module.isChecked())
        self.file_host.setVisible(self.data_file.isChecked())

    def _fill_dm(self, info: ScriptInfo) -> None:
        self.data_info = info
        self.dm_combo.blockSignals(True)
        self.dm_combo.clear()
        for cls in info.datamodules:
            self.dm_combo.addItem(cls.name, cls.name)
        self.dm_combo.blockSignals(False)
        self._on_dm_class()

    def _parse_dm_script(self) -> None:
        path = self.dm_script.text().strip() or self.script_edit.text().strip()
        if path:
            self._fill_dm(parse_script(path))

    def _dm_class(self) -> ClassInfo | None:
        if self.data_info is None:
            return None
        return self.data_info.find(self.dm_combo.currentData(), role="datamodule")

    def _on_dm_class(self) -> None:
        self.dm_args.set_class(self._dm_class())

    # --- dialogs ----------------------------------------------------------------------------------------------
    def _start_dir(self) -> str:
        current = self.script_edit.text()
        return str(Path(current).parent) if current else os.getcwd()

    def _browse_script(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model script", self._start_dir(), "Python (*.py)")
        if path:
            self.open_script(path)

    def _browse_dm(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "DataModule script", self._start_dir(), "Python (*.py)")
        if path:
            self.dm_script.setText(path)
            self._parse_dm_script()

    def _browse_data_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Data file", self._start_dir(),
                                              "Data (*.csv *.npz *.pt *.pth);;All files (*)")
        if path:
            self.data_path.setText(path)

    def _browse_data_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Image folder (one subfolder per class)", self._start_dir())
        if path:
            self.data_path.setText(path)

    def _browse_ckpt(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Checkpoint", self._start_dir(), "Checkpoints (*.ckpt);;All (*)")
        if path:
            self.set_checkpoint(path)

    # --- run settings -----------------------------------------------------------------------------------------
    def set_run_settings(self, seed: int | None, tune: dict[str, Any], debug: str) -> None:
        """Show a config's ``seed_everything:``, ``tune:`` and ``debug:`` (kept for every run and for saving)."""
        self.seed.setText("" if seed is None else str(seed))
        self.tune_settings = dict(tune or {})
        self.debug_mode = debug or "fast_dev_run"
        parts = []
        for key, value in self.tune_settings.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            parts.append(f"{key}: {value}")
        if self.debug_mode != "fast_dev_run":
            parts.append(f"debug: {self.debug_mode}")
        self.tune_note.setText(("Tune uses these settings from the config: " + "; ".join(parts)) if parts else
                               "Tune uses the finders' default settings (a config's tune: section sets others).")

    def seed_value(self) -> int | None:
        """The seed for seed_everything, or None when the field is empty."""
        text = self.seed.text().strip()
        return int(text) if text else None

    # --- checkpoint -------------------------------------------------------------------------------------------
    def set_checkpoint(self, path: str | None, *, note: str = "", resume: bool = False) -> None:
        """Show ``path`` as the weights to evaluate, with a note saying where it came from.

        Args:
            path: the checkpoint file (None or "" clears the field).
            note: one sentence under the field (which fit, which monitor).
            resume: tick "Resume from here", so the next Fit continues from it.
        """
        self.ckpt_edit.setText(path or "")
        self.ckpt_note.setText(note)
        self.resume_fit.setChecked(bool(path) and resume)

    def checkpoint_for(self, mode: str) -> str | None:
        """The checkpoint a run of ``mode`` uses: always for evaluation, for training only with Resume ticked."""
        path = self.ckpt_edit.text().strip() or None
        if mode in ("fit", "debug", "tune") and not self.resume_fit.isChecked():
            return None
        return path
