"""Run a sweep: sample values, run trials as child processes (K at once), record them in the study.

Layout of a sweep folder::

    SWEEP_DIR/
        sweep.yaml          the sweep as resolved (metric and direction filled in)
        run.yaml            the base run config
        study.db            Optuna's storage (unless --storage names another)
        best.yaml           the best trial's run config, ready for `trainer-core fit --config`
        trial_N/            one ordinary run folder tree per trial: lightning_logs/version_0/, task.json,
                            result.json, output.log

``n_trials`` is the study's total: running the same sweep again tops the study up to it without repeating finished
trials. A trial that was running when its sweep process died (or was stopped) is marked failed with the user
attribute ``interrupted`` and its values are queued again, so the resumed sweep retries it first.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trainer_core.loading.config import dump_config
from trainer_core.sweep.spec import Parameter, SweepError, SweepSpec, apply_params
from trainer_core.sweep.study import default_storage, open_study

__all__ = ["SweepResult", "run_sweep", "resolve_metric"]

_OWNER_KEY = "owner"  # user attribute: "host:pid" of the sweep process that runs the trial
_INTERRUPTED_KEY = "interrupted"


@dataclass
class SweepResult:
    """What a sweep did.

    Attributes:
        sweep_dir: the sweep folder.
        storage: the Optuna storage URL.
        ran: trial numbers this call ran, in the order they finished.
        best_number / best_value / best_params: the study's best trial (None when no trial completed).
        best_config_path: ``best.yaml``, when there is a best trial.
        interrupted: the sweep was stopped (Ctrl-C, SIGTERM) before it finished.
    """

    sweep_dir: str
    storage: str
    ran: list[int] = field(default_factory=list)
    best_number: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_config_path: str | None = None
    interrupted: bool = False


def _child_env(slot: int, parallel: int) -> tuple[dict[str, str], int]:
    """Environment and torch thread count for the trial in ``slot``: one GPU each when there are several, the CPU
    threads split between the trials running at once."""
    env = dict(os.environ)
    visible = [d for d in env.get("CUDA_VISIBLE_DEVICES", "").split(",") if d.strip()]
    gpus = visible or [str(i) for i in range(_gpu_count())]
    if len(gpus) > 1 and parallel > 1:
        env["CUDA_VISIBLE_DEVICES"] = gpus[slot % len(gpus)]
    threads = max(1, (os.cpu_count() or 1) // max(1, parallel))
    env["OMP_NUM_THREADS"] = str(threads)
    return env, threads


def _gpu_count() -> int:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _spawn(task: dict[str, Any], folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    task_path = folder / "task.json"
    task_path.write_text(json.dumps(task, indent=1), encoding="utf-8")
    log = open(folder / "output.log", "ab")  # noqa: SIM115 - handed to the child, closed when it ends
    try:
        # A session of its own: Ctrl-C in the terminal reaches the sweep, which stops its trials in order.
        return subprocess.Popen([sys.executable, "-m", "trainer_core.sweep.trial", str(task_path)], stdout=log,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)
    finally:
        log.close()


def _read_result(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": "failed", "error": "the trial process ended without a result (killed or crashed); see "
                                            f"{path.parent / 'output.log'}"}


def resolve_metric(spec: SweepSpec, run_config: dict[str, Any], sweep_dir: Path) -> SweepSpec:
    """Run the preflight child; fill in metric and direction from the run's monitor and check every name.

    Raises:
        SweepError: no metric given and no monitor to take it from, a metric the script never logs, a model/data
            parameter the class does not take, or the script failing to run one batch.
    """
    folder = sweep_dir / "preflight"
    task = {"preflight": True, "config": run_config, "result": str(folder / "result.json")}
    proc = _spawn(task, folder, dict(os.environ))
    proc.wait()
    info = _read_result(folder / "result.json")
    if info.get("state") == "failed":
        raise SweepError(f"the run config does not run one batch, so no trial would: {info.get('error')} "
                         f"(output: {folder / 'output.log'})")
    for p in spec.parameters:
        _check_argument(p, info, run_config)
    metric, direction = spec.metric, spec.direction
    monitors = info.get("monitors") or []
    if metric is None:
        if not monitors:
            raise SweepError("the sweep file gives no `metric:` and the run has no ModelCheckpoint or EarlyStopping "
                             "monitor to take it from: add `metric: val_loss` (or the metric to optimise).")
        metric = monitors[0]["monitor"]
    if direction is None:
        mode = next((m["mode"] for m in monitors if m["monitor"] == metric), "min")
        direction = "maximize" if mode == "max" else "minimize"
    if metric not in info.get("metrics", []):
        logged = ", ".join(info.get("metrics", [])) or "nothing"
        raise SweepError(f"metric {metric}: the script never logs it in one batch of training and validation "
                         f"(it logs: {logged}). Give a logged metric in the sweep file's `metric:`.")
    return replace(spec, metric=metric, direction=direction)


def _check_argument(p: Parameter, info: dict[str, Any], run_config: dict[str, Any]) -> None:
    section, _, rest = p.name.partition(".")
    key = rest[len("init_args."):] if rest.startswith("init_args.") else rest
    if section == "model":
        names, takes_any = info.get("model_args", []), info.get("model_takes_any", False)
    elif section == "data" and "path" not in (run_config.get("data") or {}):
        names, takes_any = info.get("data_args", []), info.get("data_takes_any", False)
    else:
        return
    if key not in names and not takes_any:
        raise SweepError(f"parameter {p.name}: the {section} class takes no argument `{key}` (it takes: "
                         f"{', '.join(names) or 'none'}).")


def _suggest(trial: Any, p: Parameter) -> Any:
    if p.kind == "categorical":
        return trial.suggest_categorical(p.name, list(p.choices))
    if p.kind == "int":
        return trial.suggest_int(p.name, int(p.low), int(p.high), step=int(p.step or 1), log=p.log)
    return trial.suggest_float(p.name, p.low, p.high, step=p.step, log=p.log)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's sweep: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recover(study: Any) -> None:
    """Trials left running by a sweep process that has died: failed (interrupted), their values queued again."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get(_OWNER_KEY, "")
        if owner and not _owner_alive(owner):
            study._storage.set_trial_user_attr(trial._trial_id, _INTERRUPTED_KEY, True)
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number}, skip_if_exists=True)


def _finished_count(study: Any) -> int:
    """Trials that count towards the total: completed, pruned, or failed by their own error."""
    from optuna.trial import TrialState

    count = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            count += 1
        elif trial.state == TrialState.FAIL and not trial.user_attrs.get(_INTERRUPTED_KEY):
            count += 1
        elif trial.state == TrialState.RUNNING:
            count += 1  # running in another live sweep process that shares the storage
    return count


@dataclass
class _Running:
    trial: Any
    proc: subprocess.Popen[bytes]
    folder: Path
    slot: int


class _Sweep:
    """The state of one sweep call: the study, the running trials, the stop flag."""

    def __init__(self, spec: SweepSpec, run_config: dict[str, Any], study: Any, storage: str, sweep_dir: Path,
                 parallel: int, echo: Callable[[str], None]) -> None:
        self.spec, self.run_config, self.study, self.storage = spec, run_config, study, storage
        self.sweep_dir, self.parallel, self.echo = sweep_dir, parallel, echo
        self.running: dict[int, _Running] = {}
        self.done: queue.Queue[int] = queue.Queue()
        self.stopping = False
        self.ran: list[int] = []

    def start_trial(self, slot: int) -> None:
        trial = self.study.ask()
        trial.set_user_attr(_OWNER_KEY, _owner())
        params = {p.name: _suggest(trial, p) for p in self.spec.parameters}
        folder = self.sweep_dir / f"trial_{trial.number}"
        config = apply_params(self.run_config, params)
        config.setdefault("trainer", {})["default_root_dir"] = str(folder)
        env, threads = _child_env(slot, self.parallel)
        task = {"config": config, "storage": self.storage, "study_name": self.spec.study_name,
                "parent_pid": os.getpid(), "trial_id": trial._trial_id, "trial_number": trial.number,
                "metric": self.spec.metric, "direction": self.spec.direction, "pruner": self.spec.pruner,
                "threads": threads, "result": str(folder / "result.json")}
        proc = _spawn(task, folder, env)
        self.running[trial.number] = _Running(trial, proc, folder, slot)
        threading.Thread(target=lambda: (proc.wait(), self.done.put(trial.number)), daemon=True).start()
        self.echo(f"trial {trial.number} started: {_short(params)}")

    def finish_trial(self, number: int) -> int:
        from optuna.trial import TrialState

        run = self.running.pop(number)
        result = _read_result(run.folder / "result.json")
        state = result.get("state")
        value = result.get("value")
        if state == "complete" and value is not None:
            self.study.tell(run.trial, value)
            self.echo(f"trial {number} complete: {self.spec.metric}={value:.6g}")
        elif state == "pruned":
            self.study.tell(run.trial, state=TrialState.PRUNED)
            self.echo(f"trial {number} pruned after {len(result.get('values', []))} validation(s)")
        elif state == "stopped":
            run.trial.set_user_attr(_INTERRUPTED_KEY, True)
            self.study.tell(run.trial, state=TrialState.FAIL)
            self.study.enqueue_trial(run.trial.params, user_attrs={"retry_of": number}, skip_if_exists=True)
            self.echo(f"trial {number} stopped (checkpoint: {result.get('checkpoint')}); it runs again on resume")
        else:
            run.trial.set_user_attr("error", str(result.get("error", ""))[:2000])
            self.study.tell(run.trial, state=TrialState.FAIL)
            self.echo(f"trial {number} failed: {result.get('error')}")
        self.ran.append(number)
        return run.slot

    def stop(self) -> None:
        """Ask every running trial to stop at its next batch boundary (it saves a checkpoint)."""
        self.stopping = True
        for run in self.running.values():
            if run.proc.poll() is None:
                run.proc.send_signal(signal.SIGTERM)


def _short(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def run_sweep(run_config: dict[str, Any], spec: SweepSpec, *, n_trials: int, parallel: int = 1,
              storage: str | None = None, sweep_dir: str | Path = "sweeps/sweep",
              echo: Callable[[str], None] = print) -> SweepResult:
    """Run (or resume) a sweep until the study holds ``n_trials`` finished trials.

    Raises:
        SweepError: bad sweep input, found before any trial starts.
    """
    if n_trials < 1:
        raise SweepError(f"--n_trials must be at least 1, not {n_trials}.")
    if parallel < 1:
        raise SweepError(f"--parallel must be at least 1, not {parallel}.")
    folder = Path(sweep_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    storage = storage or default_storage(folder)
    spec = resolve_metric(spec, run_config, folder)
    if spec.sampler == "grid":
        size = 1
        for p in spec.parameters:
            size *= len(p.grid_values())
        if n_trials > size:
            echo(f"the grid has {size} points: running {size} trials, not {n_trials}")
            n_trials = size
    _write_text(folder / "sweep.yaml", _yaml(spec.to_dict()))
    _write_text(folder / "run.yaml", dump_config(run_config))
    study = open_study(spec, storage)
    _recover(study)
    sweep = _Sweep(spec, run_config, study, storage, folder, parallel, echo)
    remaining = max(0, n_trials - _finished_count(study))
    echo(f"study {spec.study_name!r}: {remaining} trial(s) to run, {parallel} at a time; {spec.direction} "
         f"{spec.metric}; storage {storage}")
    interrupted = _drive(sweep, n_trials)
    return _summarise(sweep, run_config, folder, storage, interrupted)


def _drive(sweep: _Sweep, n_trials: int) -> bool:
    """Keep ``parallel`` trials running until the study holds ``n_trials`` (counting trials other processes run
    on the same storage, read again before each start); True if stopped.

    Two processes that start a trial at the same moment may each take the last place: the study then holds at most
    one extra trial per process, never fewer than asked.
    """
    free = list(range(sweep.parallel))
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    on_main_thread = threading.current_thread() is threading.main_thread()

    def request_stop(*_: Any) -> None:
        sweep.stop()

    if on_main_thread:
        for sig in previous:
            signal.signal(sig, request_stop)
    try:
        while True:
            while free and not sweep.stopping and _finished_count(sweep.study) < n_trials:
                sweep.start_trial(free.pop(0))
            if not sweep.running:
                return sweep.stopping
            number = sweep.done.get()
            free.append(sweep.finish_trial(number))
    finally:
        if on_main_thread:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _summarise(sweep: _Sweep, run_config: dict[str, Any], folder: Path, storage: str,
               interrupted: bool) -> SweepResult:
    result = SweepResult(sweep_dir=str(folder), storage=storage, ran=sweep.ran, interrupted=interrupted)
    try:
        best = sweep.study.best_trial
    except ValueError:  # no completed trial yet
        return result
    result.best_number, result.best_value, result.best_params = best.number, best.value, dict(best.params)
    path = folder / "best.yaml"
    header = (f"# Best trial of sweep {sweep.spec.study_name}: #{best.number}, {sweep.spec.metric}={best.value:.6g}\n"
              f"#   trainer-core fit --config {path}\n")
    _write_text(path, header + dump_config(apply_params(run_config, best.params)))
    result.best_config_path = str(path)
    return result


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
