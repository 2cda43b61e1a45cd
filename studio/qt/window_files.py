"""The main window's File and View menus: scripts, configs, runs, recent files, new project, themes.

The functions here work on any :class:`FileHost`: the few things of a window they use are declared by that
protocol, so this module does not depend on the main window's module (which builds its menus from here).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol, cast

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMenuBar, QMessageBox, QStatusBar, QTabWidget, QWidget

from studio.models.atomic_file import write_text_atomically
from studio.models.config import RunConfig
from studio.protocol.run_end import is_live_run
from studio.qt import window_sweep
from studio.qt.project_panel import DATA_SUFFIXES, ProjectPanel
from studio.qt.settings import StudioSettings
from studio.services.session import RunSession

__all__ = ["FileHost", "build_menus", "connect_to_server", "example_config_for", "open_path",
           "new_project_available", "default_example"]


class FileHost(Protocol):
    """What the File and View menus need of the window that holds them (MainWindow provides it)."""

    settings: StudioSettings
    session: RunSession
    project: ProjectPanel
    forms: QTabWidget
    new_project_action: QAction
    recent_menu: QMenu

    def menuBar(self) -> QMenuBar: ...  # noqa: N802, D102 - Qt's name

    def statusBar(self) -> QStatusBar: ...  # noqa: N802, D102 - Qt's name

    def close(self) -> bool: ...  # noqa: D102

    def open_script(self, path: str, *, with_example_config: bool = True) -> bool: ...  # noqa: D102

    def load_config_file(self, path: str) -> bool: ...  # noqa: D102

    def current_config(self) -> tuple[RunConfig, list[str]]: ...  # noqa: D102

    def show_problems(self, problems: list[str]) -> None: ...  # noqa: D102

    def switch_theme(self, name: str) -> None: ...  # noqa: D102

    def sync_actions(self) -> None: ...  # noqa: D102


def default_example() -> Path | None:
    """The bundled example the studio opens first (resources/examples/mlp_classifier.py or the first found)."""
    try:
        from resources import DEFAULT_EXAMPLE, example_paths
    except ImportError:
        return None
    paths = example_paths()
    preferred = [p for p in paths if p.name == DEFAULT_EXAMPLE]
    return (preferred or paths or [None])[0]


def example_paths() -> list[Path]:
    """All bundled examples ([] without the resources package)."""
    try:
        from resources import example_paths as paths
    except ImportError:
        return []
    return paths()


def example_config_for(script: str) -> Path | None:
    """The recommended-flags YAML of a bundled example script, else None."""
    try:
        from resources import example_config_path, resource_path
    except ImportError:
        return None
    examples = resource_path("examples").resolve()
    if Path(script).resolve().parent != examples:
        return None
    return example_config_path(script)


def new_project_available() -> tuple[bool, str]:
    """(available, why not) for the New project action."""
    try:
        from resources import resource_path
    except ImportError:
        return False, "The resources package is missing, so there is no project template."
    if not resource_path("templates", "new_project.py").is_file():
        return False, "resources/templates/new_project.py is missing in this installation."
    return True, "Create a new model script from a commented template"


def open_path(window: FileHost, path: str) -> None:
    """Open a dropped or chosen path by its kind: script, config, run, or data."""
    if not path:
        return
    lower = path.lower()
    if lower.endswith(".py"):
        window.open_script(path)
    elif lower.endswith((".yaml", ".yml")):
        window.load_config_file(path)
    elif window_sweep.is_sweep_folder(path):
        window_sweep.open_sweep(window, path)
    elif lower.endswith(".jsonl") or (os.path.isdir(path) and os.path.isfile(os.path.join(path, "events.jsonl"))):
        open_run(window, path)
    elif lower.endswith(DATA_SUFFIXES) or os.path.isdir(path):
        window.project.set_data_path(path)
        window.forms.setCurrentIndex(0)
    else:
        window.show_problems([f"{os.path.basename(path)}: drop a .py script, a .yaml config, a run folder "
                              "(with events.jsonl) or a data file (.csv, .npz, .pt) or image folder."])


def open_run(window: FileHost, path: str) -> None:
    """Show a run from disk: a finished one replayed, one that another process still writes followed live."""
    try:
        if is_live_run(path):
            window.session.follow_run(path)
        else:
            window.session.open_run(path)
    except (OSError, RuntimeError) as error:
        window.show_problems([str(error)])
        return
    window.show_problems([])
    window.sync_actions()


def build_menus(window: FileHost) -> None:
    """Create the File and View menus of ``window``."""
    file_menu = window.menuBar().addMenu("&File")
    window.new_project_action = QAction("New project…", window)
    available, why = new_project_available()
    window.new_project_action.setEnabled(available)
    window.new_project_action.setToolTip(why)
    window.new_project_action.setStatusTip(why)
    window.new_project_action.triggered.connect(lambda: _new_project(window))
    file_menu.addAction(window.new_project_action)
    open_action = file_menu.addAction("Open script…", lambda: _ask_open(window, "Open model script", "Python (*.py)"))
    open_action.setShortcut(QKeySequence.StandardKey.Open)
    examples = file_menu.addMenu("Open example")
    for path in example_paths():
        examples.addAction(path.name, lambda p=str(path): window.open_script(p))
    examples.setEnabled(bool(example_paths()))
    window.recent_menu = file_menu.addMenu("Open recent")
    window.recent_menu.aboutToShow.connect(lambda: _fill_recent(window, window.recent_menu))
    file_menu.addSeparator()
    file_menu.addAction("Load config…", lambda: _ask_open(window, "Load config", "YAML (*.yaml *.yml)"))
    save = file_menu.addAction("Save config…", lambda: _save_config(window))
    save.setShortcut(QKeySequence.StandardKey.Save)
    file_menu.addAction("Open run…", lambda: _ask_run(window))
    file_menu.addAction("Open sweep folder…", lambda: window_sweep.ask_open_sweep(window))
    file_menu.addAction("Connect to a server…", lambda: connect_to_server(window))
    file_menu.addAction("Submit to SLURM…", lambda: _submit_to_slurm(window))
    file_menu.addSeparator()
    quit_action = file_menu.addAction("Quit", window.close)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)

    view_menu = window.menuBar().addMenu("&View")
    for name in ("light", "dark"):
        view_menu.addAction(f"{name.title()} theme", lambda n=name: window.switch_theme(n))


def connect_to_server(window: FileHost) -> None:
    """The remote runs dialog; its Follow shows the chosen run live in this window, and every connection that works
    there is offered in the run toolbar's "Run on"."""
    from studio.qt.remote_dialog import RemoteDialog  # noqa: PLC0415 - only when asked for
    from studio.services.remote.session_follow import follow_remote_run  # noqa: PLC0415

    def bundle() -> tuple[Path, list[Path]]:
        from studio.services.remote.control import stoppable  # noqa: PLC0415
        from studio.services.remote.launch import bundle_for_server  # noqa: PLC0415

        config, problems = window.current_config()
        if problems:
            raise ValueError("; ".join(problems))
        folder = Path(window.settings.runs_dir()) / "remote" / time.strftime("%Y%m%d-%H%M%S")
        return bundle_for_server(stoppable(config), folder)  # its SIGTERM stop: how the toolbar's Stop reaches it

    dialog = RemoteDialog(_widget(window), copy_folder=str(window.settings.runs_dir()), bundle=bundle,
                          settings=window.settings.qsettings)

    def follow(target: object, path: str) -> None:
        from studio.services.remote.control import RemoteStopper  # noqa: PLC0415

        control = dialog.run_control  # a run the dialog started: Stop and Kill reach it
        stopper = None if control is None else RemoteStopper(
            control, session=window.session, on_failed=lambda message: window.show_problems([message]))
        try:
            follow_remote_run(window.session, target, path, stopper=stopper)  # type: ignore[arg-type] - an SshTarget
        except RuntimeError as exc:
            window.show_problems([str(exc)])

    dialog.follow_requested.connect(follow)
    box = getattr(window, "run_target_box", None)
    if box is not None:
        dialog.connected.connect(box.add_server)
    dialog.open()


def _submit_to_slurm(window: FileHost) -> None:
    """The SLURM job form for the current config (saved next to the runs); its run is followed in this window."""
    from studio.qt.run_target import SLURM, RunTarget  # noqa: PLC0415 - only when asked for
    from studio.qt.run_target_launch import open_slurm_job  # noqa: PLC0415

    config, problems = window.current_config()
    if problems:
        window.show_problems(problems)
        return
    open_slurm_job(window, RunTarget(kind=SLURM), "fit", config)


def _widget(window: FileHost) -> QWidget:
    """The host as the parent of a dialog (every FileHost is a window)."""
    return cast(QWidget, window)


def _start_dir(window: FileHost) -> str:
    info = window.project.script_info
    return str(Path(info.path).parent) if info is not None else os.getcwd()


def _ask_open(window: FileHost, title: str, pattern: str) -> None:
    path, _ = QFileDialog.getOpenFileName(_widget(window), title, _start_dir(window), pattern)
    open_path(window, path)


def _ask_run(window: FileHost) -> None:
    folder = QFileDialog.getExistingDirectory(_widget(window), "Open run folder (holding events.jsonl)",
                                              str(window.settings.runs_dir()))
    if folder:
        open_run(window, folder)


def _fill_recent(window: FileHost, menu: QMenu) -> None:
    menu.clear()
    recent = window.settings.recent_files()
    for path in recent:
        menu.addAction(path, lambda p=path: open_path(window, p))
    if not recent:
        menu.addAction("(none)").setEnabled(False)
    else:
        menu.addSeparator()
        menu.addAction("Clear", window.settings.clear_recent)


def _save_config(window: FileHost) -> None:
    config, problems = window.current_config()
    if problems:
        window.show_problems(problems)
        return
    info = window.project.script_info
    suggestion = str(Path(info.path).with_suffix(".yaml")) if info is not None else "config.yaml"
    path, _ = QFileDialog.getSaveFileName(_widget(window), "Save config", suggestion, "YAML (*.yaml *.yml)")
    if path:
        config.save(path)
        window.settings.add_recent(path)
        window.statusBar().showMessage(f"saved {path}", 5000)


def _new_project(window: FileHost) -> None:
    from resources import new_project_template

    name, ok = QInputDialog.getText(_widget(window), "New project", "Model class name:", text="MyModel")
    if not ok:
        return
    try:
        text = new_project_template(name)
    except ValueError as error:
        window.show_problems([str(error)])
        return
    suggestion = str(Path.home() / f"{name.lower()}.py")
    path, _ = QFileDialog.getSaveFileName(_widget(window), "Save the new script", suggestion, "Python (*.py)")
    if not path:
        return
    write_text_atomically(path, text)  # the user may have chosen to replace a script: never leave it torn
    window.open_script(path)


def ask_close_choice(window: FileHost) -> str:
    """The close-during-a-run question; returns "stop", "keep" or "cancel" (Escape and closing the box: cancel)."""
    box = QMessageBox(_widget(window))
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("A run is in progress")
    box.setText("A run is still in progress. What should happen to it?")
    box.setInformativeText("Stop: save a checkpoint and stop (killed if it does not stop in a few seconds).\n"
                           "Keep training: the run goes on without the window and keeps writing its run "
                           "folder; open that folder later to see it.")
    stop = box.addButton("Stop the run", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep training in the background", QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Cancel", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    clicked = box.clickedButton()
    return "stop" if clicked is stop else "keep" if clicked is keep else "cancel"
