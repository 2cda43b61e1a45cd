"""Submit to SLURM…: the job form, the batch script it makes (for review), submit, queue state, follow, cancel.

``sbatch`` runs on this computer when it is on PATH (a login node, or a shared file system with the cluster), else
over SSH on a login node (the connection of the remote dialog). Every call runs off the GUI thread with a timeout.
"""

from __future__ import annotations

import posixpath
import shutil
import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.services.remote.calls import call_in_background
from studio.services.remote.launch import copy_files, make_remote_folder
from studio.services.remote.slurm import JobState, SlurmJobSpec, SlurmShell, batch_script, submit
from studio.services.remote.slurm_watch import SlurmJobWatcher

__all__ = ["SlurmDialog"]


class SlurmDialog(QDialog):
    """The SLURM job form for one config file.

    Signals:
        submitted(str): the job id sbatch gave.
        run_found(str): the folder of the run the job writes (on the machine ``shell`` runs on).
        job_ended(object): the job's final :class:`JobState`.
    """

    submitted = Signal(str)
    run_found = Signal(str)
    job_ended = Signal(object)

    def __init__(self, config: str | Path, *, shell: SlurmShell | None = None, workdir: str | None = None,
                 mode: str = "fit", extra_files: tuple[Path, ...] = (), args: tuple[str, ...] = (),
                 parent: QWidget | None = None) -> None:
        """``extra_files`` (the model script, data files, a sweep file) are copied into the job folder with the
        config; ``args`` are more options for the command (a sweep's ``--sweep FILE ...``)."""
        super().__init__(parent)
        where = f" on {shell.target.label()}" if shell is not None and shell.target is not None else ""
        self.setWindowTitle(f"Submit to SLURM{where}: {mode}")
        self.config, self.mode, self.extra_files, self.args = Path(config), mode, tuple(extra_files), tuple(args)
        self.shell = shell if shell is not None else SlurmShell()
        self.watcher: SlurmJobWatcher | None = None
        self.job_id: str | None = None
        self.partition, self.account = QLineEdit(placeholderText="the cluster's default"), QLineEdit()
        self.nodes = QSpinBox(minimum=1, maximum=4096, value=1)
        self.tasks = QSpinBox(minimum=1, maximum=64, value=1)
        self.gpus = QSpinBox(minimum=0, maximum=64, value=0)
        self.cpus = QSpinBox(minimum=0, maximum=512, value=0, specialValueText="default")
        self.memory = QLineEdit(placeholderText="e.g. 32G")
        self.time_limit = QLineEdit(placeholderText="e.g. 02:00:00")
        self.python = QLineEdit("python3")
        self.workdir = QLineEdit(workdir or str(self.config.parent))
        self.extra = QPlainTextEdit()
        self.extra.setPlaceholderText("#SBATCH --constraint=a100")
        self.extra.setMaximumHeight(60)
        form = QFormLayout()
        for label, field in (("Partition", self.partition), ("Nodes", self.nodes),
                             ("Processes per node (devices)", self.tasks), ("GPUs per node", self.gpus),
                             ("CPUs per process", self.cpus), ("Memory per node", self.memory),
                             ("Time limit", self.time_limit), ("Account", self.account),
                             ("Python on the cluster", self.python), ("Job folder", self.workdir),
                             ("Extra #SBATCH lines", self.extra)):
            form.addRow(label, field)
        self.script = QPlainTextEdit(readOnly=True)
        self.script.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.script.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)  # one line per option, as in the file
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.submit_button = QPushButton("Submit")
        self.submit_button.clicked.connect(self.submit)
        self.cancel_job_button = QPushButton("Cancel job")
        self.cancel_job_button.setEnabled(False)
        self.cancel_job_button.clicked.connect(self.cancel_job)
        buttons = QHBoxLayout()
        buttons.addWidget(self.submit_button)
        buttons.addWidget(self.cancel_job_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Batch script (submitted as shown):"))
        layout.addWidget(self.script, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        for widget in (self.partition, self.account, self.memory, self.time_limit, self.python, self.workdir):
            widget.textChanged.connect(self.refresh)
        for spin in (self.nodes, self.tasks, self.gpus, self.cpus):
            spin.valueChanged.connect(self.refresh)
        self.extra.textChanged.connect(self.refresh)
        self.resize(640, 720)
        self.refresh()

    def spec(self) -> SlurmJobSpec:
        """The job the form describes."""
        return SlurmJobSpec(config=self.config.name, mode=self.mode, job_name=self.config.stem,
                            partition=self.partition.text().strip() or None, nodes=self.nodes.value(),
                            tasks_per_node=self.tasks.value(), gpus_per_node=self.gpus.value(),
                            cpus_per_task=self.cpus.value() or None, memory=self.memory.text().strip() or None,
                            time_limit=self.time_limit.text().strip() or None,
                            account=self.account.text().strip() or None,
                            python=self.python.text().strip() or "python3",
                            extra_sbatch=tuple(self.extra.toPlainText().splitlines()), args=self.args)

    def prefill(self, *, nodes: int, tasks_per_node: int, gpus_per_node: int) -> None:
        """Set the job's size (from the run's ``num_nodes``/``devices``/accelerator); the user can still change it."""
        self.nodes.setValue(nodes)
        self.tasks.setValue(tasks_per_node)
        self.gpus.setValue(gpus_per_node)

    def refresh(self) -> None:
        """Rewrite the batch script from the form (or say what is wrong)."""
        try:
            self.script.setPlainText(batch_script(self.spec()))
        except ValueError as exc:
            self.status.setText(str(exc))
            self.submit_button.setEnabled(False)
            return
        self.status.setText("")
        self.submit_button.setEnabled(self.job_id is None)

    def submit(self) -> None:
        """Copy the config into the job folder and submit the script (off the GUI thread)."""
        script, workdir, shell, config = self.script.toPlainText(), self.workdir.text().strip(), self.shell, self.config
        files = [config, *self.extra_files]
        self.submit_button.setEnabled(False)
        self.status.setText("submitting…")
        submitted_at = time.time()

        def work() -> tuple[str, str]:
            folder = workdir
            if shell.target is None:
                Path(folder).mkdir(parents=True, exist_ok=True)
                for file in files:
                    if Path(folder).resolve() != file.parent.resolve():
                        shutil.copy2(file, Path(folder) / file.name)
            else:
                folder = make_remote_folder(shell.target, folder)  # sbatch --chdir does not expand ~
                copy_files(shell.target, files, folder)
            return submit(shell, script, workdir=folder), folder

        def submitted(answer: tuple[str, str]) -> None:
            job_id, folder = answer
            self.job_id = job_id
            self.status.setText(f"job {job_id} submitted")
            self.cancel_job_button.setEnabled(True)
            self.submitted.emit(job_id)
            runs_root = folder if shell.target is None else posixpath.normpath(folder)
            self.watcher = SlurmJobWatcher(shell, job_id, runs_root=runs_root, submitted_at=submitted_at,
                                           parent=self)
            self.watcher.state_changed.connect(self._show_state)
            self.watcher.run_found.connect(self.run_found.emit)
            self.watcher.finished.connect(self._ended)
            self.watcher.error.connect(self.status.setText)
            self.watcher.start()

        def failed(message: str) -> None:
            self.status.setText(message)
            self.submit_button.setEnabled(True)

        call_in_background(work, on_done=submitted, on_failed=failed, parent=self)

    def _show_state(self, state: JobState) -> None:
        reason = f" ({state.reason})" if state.reason else ""
        requeued = f", requeued {state.restarts}×" if state.restarts else ""
        self.status.setText(f"job {self.job_id}: {state.state}{reason}{requeued}")

    def _ended(self, state: JobState) -> None:
        self.cancel_job_button.setEnabled(False)
        self.job_ended.emit(state)

    def cancel_job(self) -> None:
        """``scancel`` the submitted job."""
        if self.watcher is not None:
            self.watcher.cancel()
            self.status.setText(f"job {self.job_id}: cancelling…")

    def done(self, result: int) -> None:  # noqa: D102 - closing stops the polling; the job itself goes on
        if self.watcher is not None:
            self.watcher.stop()
        super().done(result)
