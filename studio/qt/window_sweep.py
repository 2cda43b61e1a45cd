"""The Sweep button, dialog, controller and tab of the main window, kept out of ``main_window.py``.

``add_action(window, toolbar)`` puts **Sweep…** on the toolbar; ``add_view(window)`` adds the Sweep tab once the
plot views exist. Starting a sweep writes ``run.yaml`` (the forms, as Save config writes them) and the sweep file
into ``<runs folder>/sweeps/<script>-<time>/`` and runs ``trainer-core sweep`` on them; the command is printed in the
console so it can be rerun headless.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Protocol

import yaml
from PySide6.QtGui import QAction

from studio.models.sweep_state import sweep_command, write_sweep_files
from studio.qt import run_target, run_target_launch
from studio.qt.sweep_dialog import Candidate, SweepDialog
from studio.services.sweep_controller import SweepController

__all__ = ["add_action", "add_view", "apply_params", "ask_open_sweep", "candidates", "is_sweep_folder", "open_sweep",
           "start_sweep"]

# Trainer flag groups whose numbers are hyper-parameters (hardware, logging and debugging flags are not).
_SEARCHABLE_GROUPS = ("Loop", "Validation", "Optimization", "Precision")
_SKIPPED_FLAGS = {"max_time", "track_grad_norm", "limit_predict_batches", "limit_test_batches", "amp_backend",
                  "amp_level"}


class SweepHost(Protocol):
    """What this module needs of the main window."""

    project: Any
    model_form: Any
    trainer_form: Any
    session: Any
    settings: Any
    views: Any
    sweep_controller: SweepController
    sweep_view: Any

    def current_config(self) -> tuple[Any, list[str]]: ...

    def show_problems(self, problems: list[str]) -> None: ...

    def statusBar(self) -> Any: ...  # noqa: N802 - Qt API

    def add_view(self, widget: Any, title: str) -> int: ...


def candidates(window: SweepHost) -> list[Candidate]:
    """A row for each model argument a form can express, the data's batch size and each numeric Trainer flag."""
    out: list[Candidate] = []
    values, _ = window.model_form.values()
    cls = window.project.model_class()
    for param in (cls.params if cls is not None else []):
        kind = {"int": "int", "float": "float", "bool": "categorical", "choice": "categorical"}.get(param.kind)
        if kind is None:
            continue
        choices = tuple(param.choices) if param.kind == "choice" else ((True, False) if param.kind == "bool" else ())
        out.append(Candidate(f"model.{param.name}", kind, values.get(param.name, param.default), choices))
    data, _ = window.project.data_config()
    if data and "path" in data:
        out.append(Candidate("data.batch_size", "int", data.get("batch_size")))
    elif data:
        dm_values, _ = window.project.dm_args.values()
        for name, value in dm_values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out.append(Candidate(f"data.{name}", "int" if isinstance(value, int) else "float", value))
    flags, _ = window.trainer_form.values()
    for spec in window.trainer_form.schema.flags.values():
        if spec.group not in _SEARCHABLE_GROUPS or spec.legacy or spec.name in _SKIPPED_FLAGS:
            continue
        current = flags.get(spec.name, spec.default)
        if spec.choices:
            out.append(Candidate(f"trainer.{spec.name}", "categorical", current, tuple(spec.choices)))
        elif "float" in spec.kinds:
            out.append(Candidate(f"trainer.{spec.name}", "float", current))
        elif "int" in spec.kinds:
            out.append(Candidate(f"trainer.{spec.name}", "int", current))
    return out


def apply_params(window: SweepHost, params: dict[str, Any]) -> list[str]:
    """Write a trial's values into the forms; returns the names that found no field."""
    missed = []
    flags: dict[str, Any] = {}
    for name, value in params.items():
        section, _, key = name.partition(".")
        key = key.removeprefix("init_args.")
        if section == "trainer":
            flags[key] = value
        elif section == "model":
            if window.model_form.set_first_of((key,), value) is None:
                missed.append(name)
        elif section == "data" and key == "batch_size" and window.project.batch_size.isEnabled():
            window.project.batch_size.setValue(int(value))
        elif section != "data" or window.project.dm_args.set_first_of((key,), value) is None:
            missed.append(name)
    if flags:
        missed += [f"trainer.{n}" for n in window.trainer_form.set_values(flags)]
    return missed


def start_sweep(window: SweepHost) -> bool:
    """Ask what to search, write the files and start ``trainer-core sweep`` where "Run on" points (here, the
    Sweep tab shows it; on a server its trials are followed in turn in the run views, on SLURM its first trial);
    False when nothing started."""
    if window.sweep_controller.running:
        window.show_problems(["A sweep is running; stop it first (Sweep tab > Stop sweep)."])
        return False
    config, problems = window.current_config()
    if problems:
        window.show_problems(problems)
        return False
    metrics = sorted(n for n in window.session.model.metrics.names() if n.startswith(("val", "valid")))
    dialog = SweepDialog(candidates(window), metrics=metrics, parent=window)  # type: ignore[arg-type]
    if not dialog.exec() or dialog.request is None:
        return False
    target = run_target.current_target(window)
    if target.kind != run_target.LOCAL:  # detached on a server, or a SLURM job: its trials are followed
        return run_target_launch.start_sweep_on(window, target, config, dialog.request.sweep,
                                                n_trials=dialog.request.n_trials, parallel=dialog.request.parallel)
    stem = Path(config.model_script).stem or "sweep"
    folder = Path(window.settings.runs_dir()) / "sweeps" / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_config = yaml.safe_load(config.to_yaml())
    run_yaml, sweep_yaml = write_sweep_files(folder, run_config, dialog.request.sweep)
    command = sweep_command(run_yaml, sweep_yaml, sweep_dir=str(folder), n_trials=dialog.request.n_trials,
                            parallel=dialog.request.parallel)
    window.session.model.log("info", "sweep: " + " ".join(command))
    window.sweep_controller.start(command, str(folder), cwd=str(folder), env=dict(os.environ))
    window.sweep_view.set_running(True)
    window.views.setCurrentWidget(window.sweep_view)
    return True


def add_action(window: Any, toolbar: Any) -> QAction:
    """The toolbar's **Sweep…** action (and the controller it drives)."""
    window.sweep_controller = SweepController(window)
    window.sweep_view = None
    action = QAction("Sweep…", window)
    action.setToolTip("Search hyper-parameters: tick model arguments and Trainer flags, give ranges, watch trials")
    action.triggered.connect(lambda: start_sweep(window))
    toolbar.addAction(action)
    return action


def add_view(window: Any) -> None:
    """The Sweep tab, wired to the controller, the forms and the run views."""
    from studio.qt.dashboards.sweep_view import SweepView

    view = SweepView()
    window.sweep_view = view
    window.add_view(view, "Sweep")
    controller: SweepController = window.sweep_controller
    controller.snapshot.connect(view.show_snapshot)
    controller.output.connect(lambda line: window.session.model.log("info", f"sweep: {line}"))
    controller.finished.connect(lambda code: _on_finished(window, code))
    view.stop_requested.connect(controller.stop)
    view.trial_opened.connect(lambda path: _open_trial(window, path))
    view.best_applied.connect(lambda params: _on_best_applied(window, params))


def is_sweep_folder(path: str) -> bool:
    """A folder ``trainer-core sweep`` wrote (its study or its resolved sweep file)."""
    return os.path.isdir(path) and any(os.path.isfile(os.path.join(path, name)) for name in ("study.db", "sweep.yaml"))


def open_sweep(window: Any, path: str) -> None:
    """Show a sweep folder in the Sweep tab (a finished sweep, or one a CLI or SLURM job is running)."""
    window.ensure_views()
    if window.sweep_controller.running:
        window.show_problems(["A sweep is running in the Sweep tab; stop it before opening another."])
        return
    base = os.path.join(path, "run.yaml")
    if os.path.isfile(base) and not window.session.running:
        window.load_config_file(base)  # the forms the trials started from: Apply best and Sweep again build on it
    window.sweep_controller.watch(path)
    window.views.setCurrentWidget(window.sweep_view)


def ask_open_sweep(window: Any) -> None:
    """File > Open sweep folder…"""
    from PySide6.QtWidgets import QFileDialog

    start = os.path.join(str(window.settings.runs_dir()), "sweeps")
    path = QFileDialog.getExistingDirectory(window, "Open sweep folder", start if os.path.isdir(start) else "")
    if path:
        open_sweep(window, path)


def _open_trial(window: Any, path: str) -> None:
    """A trial's run in the run views (it is an ordinary run folder)."""
    try:
        window.session.open_run(path)
    except (OSError, RuntimeError) as error:
        window.show_problems([str(error)])
        return
    window.views.setCurrentWidget(window.metrics_view)


def _on_finished(window: Any, code: int) -> None:
    window.sweep_view.set_running(False)
    meaning = {0: "finished", 2: "refused its input (see the console)", 130: "stopped; Sweep again to resume"}
    window.statusBar().showMessage(f"sweep {meaning.get(code, f'failed (exit status {code})')}", 15000)


def _on_best_applied(window: Any, params: dict[str, Any]) -> None:
    missed = apply_params(window, params)
    text = "Applied the best trial's values to the forms"
    window.statusBar().showMessage(text + (f"; no field for {', '.join(missed)}" if missed else ""), 15000)
