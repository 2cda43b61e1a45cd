"""The main window: project/model/trainer forms on the left, run status and view tabs on the right, run modes on
the toolbar.

Views live in ``self.views`` (a QTabWidget); :meth:`MainWindow.add_view` adds one. At start-up the window also asks
the optional ``studio.qt.dashboards`` package for more: if it defines ``create_views(session) -> list[(title,
widget)]``, each is added as a tab (failures are reported in the console, never fatal).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.models.config import ConfigFileError, RunConfig
from studio.models.flag_schema import FlagSchema
from studio.qt import applied_values, run_actions, run_target, run_target_launch, window_files, window_sweep
from studio.qt.console_view import ConsoleView
from studio.qt.model_form import ArgsForm
from studio.qt.project_panel import ProjectPanel
from studio.qt.run_toolbar import RunToolbar
from studio.qt.settings import StudioSettings
from studio.qt.status_view import StatusView
from studio.qt.theme import app_icon, apply_theme
from studio.qt.trainer_form import TrainerForm
from studio.qt.view_tabs import ViewArea
from studio.services.session import RunSession

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    """The studio's window. ``session`` runs and holds the data; the widgets only show and edit it."""

    def __init__(self, *, settings: StudioSettings | None = None, schema: FlagSchema | None = None,
                 lazy_views: bool = False) -> None:
        """Build the window.

        Args:
            settings: persistent settings (the user's by default).
            schema: the Trainer flag schema (studio/flag_schema.json by default).
            lazy_views: build the plot views (and import pyqtgraph, the slowest import) just after the window is
                first shown rather than before, so it appears sooner; ``views_ready`` tells when they exist.
        """
        super().__init__()
        self.settings = settings or StudioSettings()
        self.session = RunSession(self)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        screen = QApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        if available is not None and available.width() > 0:
            self.resize(min(1500, int(available.width() * 0.96)), min(940, int(available.height() * 0.94)))
        else:
            self.resize(1400, 880)

        self.project = ProjectPanel()
        self.model_form = ArgsForm("Model arguments")
        self.trainer_form = TrainerForm(schema or FlagSchema.load())
        self.project.model_class_changed.connect(self._on_model_class)
        self.project.script_opened.connect(self._on_script_opened)
        self.forms = QTabWidget()
        self.forms.addTab(_scrolled(self.project), "Project")
        self.forms.addTab(_scrolled(self.model_form), "Model")
        self.forms.addTab(self.trainer_form, "Trainer")
        self.forms.setMinimumWidth(320)  # narrower, the form rows are cut off

        self.status_view = StatusView(self.session)
        self.problems = QLabel()
        self.problems.setObjectName("problems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #d64545; padding: 4px;")
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems.hide()
        self.view_area = ViewArea()
        self.views = self.view_area.tabs
        self.metrics_view: Any = None
        self.dashboard_views: dict[str, Any] = {}
        self._placeholder = QLabel("Loading the plots…")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.console_view = ConsoleView(self.session)
        self.add_view(self._placeholder, "Metrics")
        self.add_view(self.console_view, "Console")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.status_view)
        right_layout.addWidget(self.problems)
        right_layout.addWidget(self.view_area, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.forms)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)
        self._sized = False

        self._build_actions()
        self.session.run_started.connect(self.sync_actions)
        self.session.run_ended.connect(self._on_run_ended)
        self.session.updated.connect(self._on_updated)
        self.sync_actions()
        if lazy_views:
            QTimer.singleShot(40, self.ensure_views)
        else:
            self.ensure_views()
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._update_title()

    # --- views ------------------------------------------------------------------------------------------------
    def add_view(self, widget: QWidget, title: str) -> int:
        """Add a tab to the view area; returns its index."""
        return self.views.addTab(widget, title)

    @property
    def views_ready(self) -> bool:
        """True once the plot views (and the dashboards) exist."""
        return self.metrics_view is not None

    def ensure_views(self) -> None:
        """Build the metrics view and load the dashboards (once)."""
        if self.metrics_view is not None:
            return
        from studio.qt.metrics_view import MetricsView  # imports pyqtgraph

        self.metrics_view = MetricsView(self.session)
        current = self.views.currentWidget() is self._placeholder
        self.views.removeTab(self.views.indexOf(self._placeholder))
        self.views.insertTab(0, self.metrics_view, "Metrics")
        self._placeholder.deleteLater()
        if current:
            self.views.setCurrentWidget(self.metrics_view)
        self._load_dashboards()

    def _load_dashboards(self) -> None:
        try:
            from studio.qt import dashboards  # type: ignore[attr-defined]
        except ImportError:
            return
        create = getattr(dashboards, "create_views", None)
        if create is None:
            return
        try:
            views = create(self.session, runs_root=str(self.settings.runs_dir()))
            for title, widget in views:
                self.add_view(widget, title)
        except Exception as error:  # a broken dashboard must not take the app down
            self.session.model.log("error", f"dashboards failed to load: {error!r}")
            return
        self.dashboard_views = dict(views)
        self._connect_dashboards()
        window_sweep.add_view(self)

    def _connect_dashboards(self) -> None:
        """Take the views' signals: applied tuner results go into the forms, warnings into the status bar."""
        views = self.dashboard_views
        if "LR finder" in views:
            views["LR finder"].lr_applied.connect(self.apply_lr)
        if "Batch size" in views:
            views["Batch size"].batch_size_applied.connect(self.apply_batch_size)
        if "Gradients" in views:
            views["Gradients"].warning.connect(lambda text: self.statusBar().showMessage(text, 15000))
        if "Runs" in views:
            run_actions.connect(self, views["Runs"])
        self.session.run_started.connect(self._follow_tuner)

    def apply_lr(self, lr: float) -> str:
        """Write a found learning rate into the model form (and show it); returns the sentence shown."""
        taken, message = applied_values.apply_lr(self.model_form, lr)
        if taken:
            self.forms.setCurrentIndex(1)
        self._show_applied("LR finder", message)
        return message

    def apply_batch_size(self, size: int) -> str:
        """Write a found batch size into the data settings and batch_size arguments; returns the sentence shown."""
        form, message = applied_values.apply_batch_size(self.project, self.model_form, size)
        if form:
            self.forms.setCurrentIndex(1 if form == "model" else 0)  # where the value went, as Apply lr does
        self._show_applied("Batch size", message)
        return message

    def _show_applied(self, view_title: str, message: str) -> None:
        started = self.session.model.extras.get("run_started") or []
        info = self.project.script_info
        message += applied_values.other_script_note((started[-1].get("config") or {}).get("model_script")
                                                    if started else None, info.path if info is not None else None)
        self.statusBar().showMessage(message, 15000)
        view = self.dashboard_views.get(view_title)
        if view is not None:
            view.show_applied(message)

    def _follow_tuner(self, mode: str) -> None:
        """A Tune run shows its finder live (other modes bring the metrics tab forward in :meth:`launch`)."""
        if mode != "tune":
            return
        tune = (self.session.last_request.get("spec") or {}).get("tune") or {}
        title = "Batch size" if tune.get("scale_batch_size") and not tune.get("lr_find") else "LR finder"
        if title in self.dashboard_views:
            QTimer.singleShot(0, lambda: self.views.setCurrentWidget(self.dashboard_views[title]))

    # --- actions ----------------------------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.toolbar = RunToolbar(self, before_stop=lambda toolbar: window_sweep.add_action(self, toolbar))
        self.addToolBar(self.toolbar)
        # "Run on": this computer, a server (ssh) or a SLURM cluster.
        run_target.install(self, self.toolbar, on_connect=lambda: window_files.connect_to_server(self))
        self.toolbar.launch_requested.connect(lambda mode, overrides: self.launch(mode, overrides=overrides or None))
        self.toolbar.stop_requested.connect(self.stop)
        self.mode_actions = self.toolbar.mode_actions
        self.stop_action = self.toolbar.stop_action
        window_files.build_menus(self)

    def sync_actions(self, *_: Any) -> None:
        """Enable the run modes when idle and Stop (or Kill, after a stop request) while a run is alive."""
        running = self.session.running
        for action in self.mode_actions.values():
            action.setEnabled(not running)
        # Test needs a test_step (Lightning raises without one): not offered for a model that certainly lacks it.
        cls = self.project.model_class()
        no_test = cls is not None and not cls.may_define("test_step")
        self.mode_actions["test"].setEnabled(not running and not no_test)
        self.mode_actions["test"].setToolTip(f"{cls.name} defines no test_step: add one to run the test loop"
                                             if no_test and cls is not None else "Run the test loop")
        stoppable = self.session.can_stop  # also a followed run this studio started on a server or on SLURM
        self.stop_action.setEnabled(stoppable)
        self.stop_action.setText("Kill" if stoppable and self.session.stop_requested else "Stop")

    # --- configuration ----------------------------------------------------------------------------------------
    def current_config(self) -> tuple[RunConfig, list[str]]:
        """The forms as a RunConfig, and every problem that blocks a launch."""
        problems: list[str] = []
        info = self.project.script_info
        if info is None:
            problems.append("Choose a model script (File > Open script, or drop a .py file on the window).")
        elif info.error:
            problems.append(info.error)
        cls = self.project.model_class()
        if info is not None and not info.error and cls is None:
            problems.append("Choose the LightningModule class to train.")
        init_args, arg_problems = self.model_form.values()
        flags, flag_problems = self.trainer_form.values()
        data, data_problems = self.project.data_config()
        problems += arg_problems + flag_problems + data_problems
        config = RunConfig(
            model_script=info.path if info is not None else "",
            model_class=cls.name if cls is not None else None,
            model_init_args=init_args,
            data=data,
            trainer_flags=flags,
            ckpt_path=self.project.ckpt_edit.text().strip() or None,
            tune=dict(self.project.tune_settings),
            debug=self.project.debug_mode,
            seed=self.project.seed_value(),
        )
        if config.ckpt_path and not os.path.isfile(config.ckpt_path):
            problems.append(f"Checkpoint {config.ckpt_path} does not exist; choose a .ckpt file or clear the field.")
        return config, problems

    def apply_config(self, config: RunConfig) -> list[str]:
        """Fill the forms from ``config``; returns notes about what could not be shown."""
        notes = []
        if config.model_script:
            self.project.open_script(config.model_script)
        self.project.select_model_class(config.model_class)
        self.model_form.set_class(self.project.model_class(), config.model_init_args)
        self.project.set_data_config(config.data)
        self.project.set_run_settings(config.seed, config.tune, config.debug)
        # A config's ckpt_path resumes a fit on the command line; the studio keeps that meaning.
        self.project.set_checkpoint(config.ckpt_path, resume=bool(config.ckpt_path),
                                    note="From the config file." if config.ckpt_path else "")
        unknown = self.trainer_form.set_values(config.trainer_flags)
        if unknown:
            notes.append(f"Unknown Trainer flags ignored: {', '.join(unknown)}.")
        return notes

    def load_config_file(self, path: str) -> bool:
        """Load a ``--config`` YAML into the forms; problems are shown, not raised."""
        try:
            config = RunConfig.load(path)
        except ConfigFileError as error:
            self.show_problems([str(error)])
            return False
        if not config.model_script and self.project.script_info is not None:
            config.model_script = self.project.script_info.path
        notes = self.apply_config(config)
        self.show_problems(notes)
        self.settings.add_recent(os.path.abspath(path))
        self.statusBar().showMessage(f"loaded {path}", 5000)
        return True

    def show_problems(self, problems: list[str]) -> None:
        """Show (or clear, with []) the list of problems above the views."""
        self.problems.setText("\n".join(f"• {p}" for p in problems))
        self.problems.setVisible(bool(problems))

    # --- running ----------------------------------------------------------------------------------------------
    def launch(self, mode: str, *, overrides: dict[str, Any] | None = None) -> bool:
        """Validate the forms and start ``mode``; returns False (with the problems shown) when it cannot."""
        if self.session.running:
            self.show_problems(["A run is in progress; stop it first."])
            return False
        config, problems = self.current_config()
        cls = self.project.model_class()
        if mode == "test" and cls is not None and not cls.may_define("test_step"):
            problems.append(f"{cls.name} defines no test_step, so there is nothing to test: add a test_step (and a "
                            "test_dataloader or DataModule test data) to the script.")
        if (mode == "predict" and cls is not None and self.project.data_own.isChecked()
                and not cls.may_define("predict_dataloader")):
            # Found here, not after starting a training process that fails with a fix naming trainer.predict().
            problems.append(f"{cls.name} defines no predict_dataloader, so Predict has no data: add a "
                            "predict_dataloader to the script, or choose a LightningDataModule with predict data or a "
                            "data file under Data.")
        if problems:
            self.show_problems(problems)
            self.statusBar().showMessage("cannot start: fix the problems listed above the plots", 8000)
            return False
        self.show_problems([])
        config.ckpt_path = self.project.checkpoint_for(mode)
        runs_dir = self.settings.runs_dir()
        self.ensure_views()
        overrides = dict(overrides or {})
        if "tune" in overrides:
            # The button picks the finders; the config's finder arguments (lr_find_kwargs, ...) still apply.
            overrides["tune"] = {**config.tune, **overrides["tune"]}
        if run_target_launch.launch_elsewhere(self, mode, config, overrides):
            return True  # started on a server or submitted to SLURM: followed here once it runs
        self.session.launch(config, mode, runs_dir, overrides=overrides)
        self.views.setCurrentWidget(self.metrics_view)
        self.sync_actions()
        return True

    def stop(self) -> None:
        """Stop (first click) or kill (second click) the run."""
        self.session.stop()
        self.sync_actions()

    def _on_run_ended(self, status: str, reason: str) -> None:
        self.sync_actions()
        self._take_fit_checkpoint()
        if status == "failed":
            self.views.setCurrentWidget(self.console_view)
        self.statusBar().showMessage(f"run {status}" + (f": {reason.splitlines()[0]}" if reason else ""), 15000)

    def _take_fit_checkpoint(self) -> None:
        """After a live Fit, its best checkpoint (else its last) becomes the weights Validate/Test/Predict use."""
        model = self.session.model
        if model.mode != "fit" or not self.session.last_request:
            return
        choice = fit_checkpoint(model.result, model.checkpoints, model.extras.get("checkpoint_saved") or [])
        if choice is None:
            return
        path, how = choice
        self.project.set_checkpoint(path, note=f"{how} of the fit that just ended: Validate, Test and Predict "
                                               "evaluate it; a new Fit starts fresh unless Resume from here is "
                                               "ticked.")

    def _on_updated(self, kinds: set[str]) -> None:
        # A followed run's own final event ends it before its stream closes: Stop is greyed out at once.
        if "status" in kinds or "run_finished" in kinds or "stage_finished" in kinds:
            self.sync_actions()

    # --- script -----------------------------------------------------------------------------------------------
    def open_script(self, path: str, *, with_example_config: bool = True) -> bool:
        """Open a model script (and, for a bundled example, its recommended flags).

        Another script starts a fresh project: the Trainer flags, seed, tune settings, checkpoint and data source of
        the previous one are reset (a config loaded next fills them again), and the last run's plots are cleared.
        """
        previous = self.project.script_info
        if previous is not None and os.path.abspath(os.path.expanduser(path)) != previous.path:
            self._start_fresh_project()
        info = self.project.open_script(path)
        if info is None:
            return False
        if info.error:
            self.show_problems([info.error])
            self.forms.setCurrentIndex(0)
            return False
        self.show_problems([])
        if with_example_config:
            config_path = window_files.example_config_for(path)
            if config_path is not None:
                self.load_config_file(str(config_path))
        self._update_title()
        return True

    def _start_fresh_project(self) -> None:
        self.trainer_form.set_values({})
        self.project.set_run_settings(None, {}, "fast_dev_run")
        self.project.set_checkpoint(None)
        self.project.set_data_config(None)
        if not self.session.running:
            self.session.clear()

    def _on_script_opened(self, path: str) -> None:
        self.settings.add_recent(path)
        self._update_title()

    def _on_model_class(self) -> None:
        self.model_form.set_class(self.project.model_class())
        if hasattr(self, "mode_actions"):
            self.sync_actions()

    def _update_title(self) -> None:
        info = self.project.script_info
        name = Path(info.path).name if info is not None else "no script"
        self.setWindowTitle(f"{name} - Training Studio")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._sized:
            # The forms get about a third of the first shown width (360-480 px); the views the rest.
            self._sized = True
            width = max(self.splitter.width(), self.width())
            forms = max(360, min(480, width // 3))
            self.splitter.setSizes([forms, max(width - forms, 1)])

    # --- drag and drop ----------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        for url in event.mimeData().urls():
            window_files.open_path(self, url.toLocalFile())
        event.acceptProposedAction()

    # --- closing ----------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.session.running:
            choice = self._ask_close_choice()
            if choice == "cancel":
                event.ignore()
                return
            if choice == "keep":
                note = self.session.detach()
                print(f"Training Studio: {note}", file=sys.stderr)  # the window is going: say where the run is
        self.session.shutdown()  # stops (then kills after the timeout) a run that was not kept
        self.sweep_controller.shutdown()  # a running sweep goes on by itself; its study stays resumable
        self.settings.set_geometry(self.saveGeometry())
        self.settings.sync()
        super().closeEvent(event)

    def _ask_close_choice(self) -> str:
        """Ask what to do with the running run; returns "stop", "keep" or "cancel" (tests replace this method)."""
        return window_files.ask_close_choice(self)

    def switch_theme(self, name: str) -> None:
        """Apply and remember a theme."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, name)
        self.settings.set_theme(name)
        # apply_theme repaints every plot (studio.qt.plot_style listens for the switch).


def fit_checkpoint(result: dict[str, Any], saved: list[str],
                   saved_events: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The checkpoint a fit leaves for evaluation and how it was chosen, or None when it wrote none.

    The checkpoint callback's best file when it monitors a metric; the last file written otherwise (a fit without
    a monitor, or a stopped one whose newest file is the stop checkpoint). Files since deleted are skipped.

    Args:
        result: the run's RunResult fields (``best_checkpoint``, ``last_checkpoint``).
        saved: every checkpoint path the run reported, oldest first.
        saved_events: the ``checkpoint_saved`` events (their ``monitor`` tells whether "best" means anything).
    """
    monitored = any(event.get("monitor") for event in saved_events)
    best = result.get("best_checkpoint")
    if monitored and best and os.path.isfile(best):
        monitor = next(event["monitor"] for event in reversed(saved_events) if event.get("monitor"))
        return best, f"Best checkpoint by {monitor}"
    for path in [*reversed(saved), result.get("last_checkpoint"), best]:
        if path and os.path.isfile(path):
            return path, "Last checkpoint"
    return None


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area
