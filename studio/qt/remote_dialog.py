"""File ▸ Connect to a server…: host, user, key or agent; browse the remote runs root; Follow or Copy back a run.

Every remote call runs off the GUI thread with a timeout (:mod:`studio.services.remote.calls`); no password is
asked for or kept: the system ssh client uses the user's agent, keys and config (jump hosts, host-key checks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.qt.slurm_dialog import SlurmDialog
from studio.services.remote.calls import call_in_background
from studio.services.remote.control import DetachedRunControl, RunControl, SlurmRunControl
from studio.services.remote.launch import RemoteLaunch, launch_and_find_run
from studio.services.remote.runs import RemoteRun, copy_back, list_runs
from studio.services.remote.servers import remember_server
from studio.services.remote.slurm import SlurmShell
from studio.services.remote.ssh import SshTarget

__all__ = ["RemoteDialog"]

_SETTINGS = "remote"  # the QSettings group of the last connection


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


def _age(modified: float) -> str:
    seconds = max(0.0, time.time() - modified)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    return f"{seconds / 60:.0f} min ago" if seconds < 7200 else time.strftime("%Y-%m-%d %H:%M",
                                                                             time.localtime(modified))


class RemoteDialog(QDialog):
    """Connect, browse and pick a remote run.

    Signals:
        follow_requested(object, str): the :class:`SshTarget` and the run folder to follow live; for a run started
            from this dialog, :attr:`run_control` then says how the toolbar's Stop and Kill reach it.
        copied(str): a run or checkpoint was copied to this local path.
        launched(object): the :class:`RemoteLaunch` of a run started on the server.
        connected(object): the :class:`SshTarget` of a connection that listed runs (it works: Run on offers it).
    """

    follow_requested = Signal(object, str)
    copied = Signal(str)
    launched = Signal(object)
    connected = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, copy_folder: str | None = None,
                 bundle: Callable[[], tuple[Path, list[Path]]] | None = None,
                 settings: QSettings | None = None) -> None:
        """``bundle`` writes the window's current config for a server (see ``bundle_for_server``); without it the
        dialog offers no Start button. ``settings`` keeps the last connection that listed runs (host, user, port,
        key file path, remote Python, runs folder: never a password, there is none)."""
        super().__init__(parent)
        self.bundle, self.settings = bundle, settings
        self.run_control: RunControl | None = None  # of the run last asked to be followed; None: only watched
        self.setWindowTitle("Connect to a server")
        self.runs: list[RemoteRun] = []
        self._target_override: SshTarget | None = None  # settings the fields do not show (known hosts, timeouts)
        self.copy_folder = copy_folder or str(Path.home())
        self.host = QLineEdit(placeholderText="gpu-server or an alias from ~/.ssh/config")
        self.user = QLineEdit(placeholderText="as the ssh config says")
        self.port = QSpinBox(minimum=0, maximum=65535, specialValueText="as the ssh config says")
        self.key = QLineEdit(placeholderText="empty: the ssh agent and the config's keys")
        self.python = QLineEdit("python3")
        self.root = QLineEdit("~/lightning_logs")
        form = QFormLayout()
        for label, field in (("Host", self.host), ("User", self.user), ("Port", self.port), ("Key file", self.key),
                             ("Remote Python", self.python), ("Runs folder", self.root)):
            form.addRow(label, field)
        self.browse_button = QPushButton("Connect and list runs")
        self.browse_button.clicked.connect(self.browse)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Run folder", "Events", "Written"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _index: self.follow())
        self.follow_button = QPushButton("Follow")
        self.follow_button.clicked.connect(self.follow)
        self.copy_button = QPushButton("Copy back…")
        self.copy_button.clicked.connect(self._ask_copy)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QHBoxLayout()
        buttons.addWidget(self.follow_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.browse_button)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        if bundle is not None:
            self.mode = QComboBox()
            self.mode.addItems(["fit", "tune"])
            self.job_folder = QLineEdit(f"~/training-studio/run-{time.strftime('%Y%m%d-%H%M%S')}")
            self.start_button = QPushButton("Start on this server")
            self.start_button.clicked.connect(self.start_run)
            start = QHBoxLayout()
            start.addWidget(QLabel("Start the current config:"))
            start.addWidget(self.mode)
            start.addWidget(QLabel("in"))
            start.addWidget(self.job_folder, 1)
            start.addWidget(self.start_button)
            self.slurm_button = QPushButton("Submit to SLURM here…")
            self.slurm_button.setToolTip("The server is a SLURM login node: write, review and submit a batch job")
            self.slurm_button.clicked.connect(self.open_slurm)
            start.addWidget(self.slurm_button)
            layout.addLayout(start)
        self.resize(720, 480)
        self._restore()
        self._update_buttons()

    def _fields(self) -> dict[str, QLineEdit]:
        return {"host": self.host, "user": self.user, "key": self.key, "python": self.python, "root": self.root}

    def _restore(self) -> None:
        if self.settings is None:
            return
        for name, field in self._fields().items():
            value = self.settings.value(f"{_SETTINGS}/{name}")
            if isinstance(value, str) and value:
                field.setText(value)
        port = self.settings.value(f"{_SETTINGS}/port")
        if port not in (None, ""):
            self.port.setValue(int(port))  # type: ignore[call-overload] - stored as text by ini files

    def _remember(self, target: SshTarget) -> None:
        if self.settings is None:
            return
        remember_server(self.settings, target)
        for name, field in self._fields().items():
            self.settings.setValue(f"{_SETTINGS}/{name}", field.text().strip())
        self.settings.setValue(f"{_SETTINGS}/port", self.port.value())
        self.settings.sync()

    def target(self) -> SshTarget:
        """The connection the fields describe (raises ValueError without a host)."""
        host = self.host.text().strip()
        if not host:
            raise ValueError("give the server's host name (or an alias from ~/.ssh/config).")
        return SshTarget(host=host, user=self.user.text().strip() or None, port=self.port.value() or None,
                         identity_file=self.key.text().strip() or None, python=self.python.text().strip() or "python3")

    def set_target(self, target: SshTarget) -> None:
        """Fill the fields from ``target`` (tests, and a connection chosen elsewhere)."""
        self.host.setText(target.host)
        self.user.setText(target.user or "")
        self.port.setValue(target.port or 0)
        self.key.setText(target.identity_file or "")
        self.python.setText(target.python)
        self._target_override = target

    def _current_target(self) -> SshTarget:
        override, target = self._target_override, self.target()
        if override is not None and (override.host, override.user, override.port, override.identity_file) == (
                target.host, target.user, target.port, target.identity_file):
            return override
        return target

    def browse(self) -> None:
        """List the run folders under the runs folder (off the GUI thread)."""
        try:
            target = self._current_target()
        except ValueError as exc:
            self._show_error(str(exc))
            return
        root = self.root.text().strip() or "~"
        self.browse_button.setEnabled(False)
        self.status.setText(f"connecting to {target.label()}…")
        call_in_background(lambda: list_runs(target, root), on_done=lambda runs: self._show_runs(target, runs),
                           on_failed=self._browse_failed, parent=self)

    def _browse_failed(self, message: str) -> None:
        self.browse_button.setEnabled(True)
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.status.setText(message)
        self.status.setProperty("error", True)

    def _show_runs(self, target: SshTarget, runs: list[RemoteRun]) -> None:
        self.browse_button.setEnabled(True)
        self._remember(target)  # this connection works: offer it next time
        self.connected.emit(target)
        self.runs = runs
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            for column, text in enumerate((run.path, _size(run.size), _age(run.modified))):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.status.setText(f"{len(runs)} run folders under {self.root.text().strip()}" if runs else
                            "no run folders there (none holds an events.jsonl)")
        if runs:
            self.table.selectRow(0)
        self._update_buttons()

    def selected_run(self) -> RemoteRun | None:
        rows = self.table.selectionModel().selectedRows()
        return self.runs[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        chosen = self.selected_run() is not None
        self.follow_button.setEnabled(chosen)
        self.copy_button.setEnabled(chosen)

    def follow(self) -> None:
        """Ask the window to follow the selected run live, and close."""
        run = self.selected_run()
        if run is None:
            return
        self.run_control = None
        self.follow_requested.emit(self._current_target(), run.path)
        self.accept()

    def _ask_copy(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Copy the run into", self.copy_folder)
        if folder:
            self.copy_to(folder)

    def copy_to(self, folder: str) -> None:
        """Copy the selected run into ``folder`` (off the GUI thread); ``copied`` names the copy."""
        run = self.selected_run()
        if run is None:
            return
        self.copy_folder = folder
        target = self._current_target()
        self.copy_button.setEnabled(False)
        self.status.setText(f"copying {run.path} …")
        call_in_background(lambda: str(copy_back(target, run.path, folder)), on_done=self._copied,
                           on_failed=self._copy_failed, parent=self)

    def _copied(self, path: str) -> None:
        self._update_buttons()
        self.status.setText(f"copied to {path}")
        self.copied.emit(path)

    def start_run(self) -> None:
        """Send the current config to the server, start it detached, and follow its run once it appears."""
        if self.bundle is None:
            return
        try:
            target = self._current_target()
            config, files = self.bundle()
        except (ValueError, OSError) as exc:
            self._show_error(str(exc))
            return
        mode, folder = self.mode.currentText(), self.job_folder.text().strip()
        self.start_button.setEnabled(False)
        self.status.setText(f"starting {mode} on {target.label()}…")

        def work() -> tuple[RemoteLaunch, str]:
            return launch_and_find_run(target, mode=mode, config=config, workdir=folder, extra_files=tuple(files))

        def started(result: tuple[RemoteLaunch, str]) -> None:
            launch, run = result
            self.start_button.setEnabled(True)
            self.launched.emit(launch)
            self.run_control = DetachedRunControl(target=target, pid=launch.pid)
            self.follow_requested.emit(target, run)
            self.accept()

        def failed(message: str) -> None:
            self.start_button.setEnabled(True)
            self._show_error(message)

        call_in_background(work, on_done=started, on_failed=failed, parent=self)

    def open_slurm(self) -> SlurmDialog | None:
        """The SLURM job form for the current config, submitted with sbatch over this connection; the job's run is
        followed in the window (``follow_requested``) once it appears."""
        if self.bundle is None:
            return None
        try:
            target = self._current_target()
            config, files = self.bundle()
        except (ValueError, OSError) as exc:
            self._show_error(str(exc))
            return None
        dialog = SlurmDialog(config, shell=SlurmShell(target=target), workdir=self.job_folder.text().strip(),
                             mode=self.mode.currentText(), extra_files=tuple(files), parent=self)
        dialog.python.setText(target.python)

        def found(path: str) -> None:
            self.run_control = SlurmRunControl(shell=dialog.shell, job_id=str(dialog.job_id))
            self.follow_requested.emit(dialog.shell.target or target, path)

        dialog.run_found.connect(found)
        dialog.open()
        return dialog

    def _copy_failed(self, message: str) -> None:
        self._update_buttons()
        self._show_error(message)
