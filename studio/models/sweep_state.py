"""A sweep as the studio shows it: trials, best so far and parameter importance, read from the sweep's study.

The sweep itself runs in ``trainer-core sweep`` (a child process, so the GUI never imports torch); this module only
reads what that process records in Optuna's storage and the sweep folder, and writes the two files the command
takes. No Qt, no torch.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["SweepTrial", "SweepSnapshot", "read_sweep", "sweep_command", "write_sweep_files", "best_so_far"]


@dataclass(frozen=True)
class SweepTrial:
    """One trial of the study.

    Attributes:
        number: Optuna's trial number (``trial_N`` folder).
        state: ``running``, ``complete``, ``pruned``, ``failed`` or ``waiting``.
        params: the sampled values by dotted key.
        value: the trial's value (its metric's best over its validations) once complete.
        values: the value reported after each validation so far.
        duration_s: seconds from start to end (or to now while running).
        run_dir: the trial's run folder, once it exists.
        error: why a failed trial failed.
    """

    number: int
    state: str
    params: dict[str, Any]
    value: float | None
    values: list[float]
    duration_s: float | None
    run_dir: str | None
    error: str = ""

    @property
    def current(self) -> float | None:
        """The latest reported value (the final value once complete)."""
        if self.value is not None:
            return self.value
        return self.values[-1] if self.values else None


@dataclass
class SweepSnapshot:
    """Everything the Sweep view draws, read at one moment."""

    sweep_dir: str
    metric: str | None = None
    direction: str = "minimize"
    trials: list[SweepTrial] = field(default_factory=list)
    importances: dict[str, float] = field(default_factory=dict)
    log_parameters: set[str] = field(default_factory=set)  # searched on a log scale (drawn on one)

    @property
    def best(self) -> SweepTrial | None:
        done = [t for t in self.trials if t.state == "complete" and t.value is not None and math.isfinite(t.value)]
        if not done:
            return None
        pick = min if self.direction == "minimize" else max
        return pick(done, key=lambda t: t.value)

    @property
    def parameter_names(self) -> list[str]:
        names: list[str] = []
        for trial in self.trials:
            names += [n for n in trial.params if n not in names]
        return names


def best_so_far(trials: list[SweepTrial], direction: str) -> list[tuple[int, float]]:
    """(trial number, best value among completed trials up to it), in trial order."""
    out: list[tuple[int, float]] = []
    best: float | None = None
    for trial in sorted(trials, key=lambda t: t.number):
        if trial.state != "complete" or trial.value is None or not math.isfinite(trial.value):
            continue
        if best is None or (trial.value < best if direction == "minimize" else trial.value > best):
            best = trial.value
        out.append((trial.number, best))
    return out


def _run_dir(sweep_dir: Path, number: int) -> str | None:
    versions = sorted((sweep_dir / f"trial_{number}" / "lightning_logs").glob("version_*"))
    return str(versions[-1]) if versions else None


def read_sweep(sweep_dir: str | os.PathLike[str], storage: str | None = None, *,
               with_importance: bool = True) -> SweepSnapshot:
    """Read the study of the sweep in ``sweep_dir`` (its ``study.db`` unless ``storage`` names another).

    A sweep that has not created its study yet reads as an empty snapshot.
    """
    folder = Path(sweep_dir)
    snapshot = SweepSnapshot(sweep_dir=str(folder))
    spec_path = folder / "sweep.yaml"
    study_name = "sweep"
    if spec_path.is_file():
        spec = yaml.safe_load(spec_path.read_text(encoding="utf-8")) or {}
        snapshot.metric = spec.get("metric")
        snapshot.direction = spec.get("direction") or "minimize"
        study_name = spec.get("study_name") or "sweep"
        parameters = spec.get("parameters") if isinstance(spec.get("parameters"), dict) else {}
        snapshot.log_parameters = {name for name, p in parameters.items() if isinstance(p, dict) and p.get("log")}
    url = storage or f"sqlite:///{folder.resolve() / 'study.db'}"
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return snapshot
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=study_name, storage=url)
    except KeyError:  # the storage exists but the study is not in it yet
        return snapshot
    now = _now()
    for trial in study.get_trials(deepcopy=False):
        state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running",
                 "WAITING": "waiting"}[trial.state.name]
        if state == "failed" and trial.user_attrs.get("interrupted"):
            state = "stopped"
        start, end = trial.datetime_start, trial.datetime_complete
        duration = None if start is None else ((end or now) - start).total_seconds()
        values = [trial.intermediate_values[k] for k in sorted(trial.intermediate_values)]
        snapshot.trials.append(SweepTrial(number=trial.number, state=state, params=dict(trial.params),
                                          value=trial.value if state == "complete" else None, values=values,
                                          duration_s=duration, run_dir=_run_dir(folder, trial.number),
                                          error=str(trial.user_attrs.get("error", ""))))
    complete = [t for t in snapshot.trials if t.state == "complete"]
    if with_importance and len(complete) >= 3:
        try:
            snapshot.importances = dict(optuna.importance.get_param_importances(study))
        except (RuntimeError, ValueError, ZeroDivisionError):
            snapshot.importances = {}  # too few distinct values to say anything yet
    return snapshot


def _now() -> Any:
    import datetime

    return datetime.datetime.now()


def write_sweep_files(folder: str | os.PathLike[str], run_config: dict[str, Any],
                      sweep: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``run.yaml`` and ``sweep.yaml`` for ``trainer-core sweep`` into ``folder``; return their paths.

    Both are written atomically so a headless rerun on a server (``trainer-core sweep --config ... --sweep ...``)
    reads exactly what the studio ran.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in (("run.yaml", run_config), ("sweep-request.yaml", sweep)):
        path = out / name
        tmp = path.with_name(f"{name}.tmp-{os.getpid()}")
        tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths[0], paths[1]


def sweep_command(run_yaml: str | os.PathLike[str], sweep_yaml: str | os.PathLike[str], *, sweep_dir: str,
                  n_trials: int, parallel: int, storage: str | None = None,
                  python: str | None = None) -> list[str]:
    """The command line the studio runs (and shows, to be rerun headless)."""
    command = [python or sys.executable, "-m", "trainer_core", "sweep", "--config", str(run_yaml), "--sweep",
               str(sweep_yaml), "--n_trials", str(n_trials), "--parallel", str(parallel), "--sweep_dir", sweep_dir]
    if storage:
        command += ["--storage", storage]
    return command
