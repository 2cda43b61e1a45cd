"""One sweep trial in its own process: ``python -m trainer_core.sweep.trial TASK.json``.

The sweep process samples the trial's values and writes a task file; this process runs the fit (an ordinary run,
with its own run folder, events, checkpoints and hparams), reports each validation's value to the study so the
pruner can judge it, and writes a result file the sweep process reads. SIGTERM (the sweep being stopped) ends the
fit at the next batch boundary with a checkpoint, as the studio's Stop does.

The same entry, with ``"preflight": true`` in the task, runs one batch of training and validation
(``fast_dev_run``) to learn what the script logs and which metric its ModelCheckpoint/EarlyStopping monitors,
before any trial starts.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from trainer_core.callback import Callback

__all__ = ["TrialReporter", "main"]


class TrialReporter(Callback):
    """Reports the metric after each validation; asks the pruner whether to go on.

    Args:
        trial: an ``optuna.trial.Trial`` (None in a preflight run: values are only kept).
        metric: the monitored metric's name.
        direction: ``minimize`` or ``maximize``; decides which value is the best.
    """

    def __init__(self, trial: Any, metric: str, direction: str) -> None:
        self.trial = trial
        self.metric = metric
        self.direction = direction
        self.values: list[float] = []
        self.pruned = False

    @property
    def best(self) -> float | None:
        finite = [v for v in self.values if math.isfinite(v)]
        if not finite:
            return None
        return min(finite) if self.direction == "minimize" else max(finite)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking or self.metric not in trainer.callback_metrics:
            return
        value = float(trainer.callback_metrics[self.metric])  # once per validation: this sync is not per step
        self.values.append(value)
        if self.trial is None:
            return
        self.trial.report(value, step=len(self.values))
        if self.trial.should_prune():
            self.pruned = True
            trainer.should_stop = True


def _write_json(path: str, data: dict[str, Any]) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as file:
        json.dump(data, file)
    os.replace(tmp, path)


def _signature_names(cls: type) -> tuple[set[str], bool]:
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    return {name for name in params if name != "self"}, takes_any


def _preflight(task: dict[str, Any]) -> dict[str, Any]:
    """Run one batch; return what was logged, the monitors and the constructor arguments of the classes."""
    from trainer_core.runner import RunSpec, execute

    config = dict(task["config"])
    config["trainer"] = {**config.get("trainer", {}), "fast_dev_run": True, "enable_progress_bar": False,
                         "enable_model_summary": False}
    seen: dict[str, Any] = {}
    spec = RunSpec.from_config(config, "fit")
    result = execute(spec, on_trainer=lambda trainer: seen.setdefault("trainer", trainer))
    trainer = seen["trainer"]
    monitors = []
    for callback in [*trainer.checkpoint_callbacks, trainer.early_stopping_callback]:
        if callback is not None and getattr(callback, "monitor", None):
            monitors.append({"monitor": callback.monitor, "mode": getattr(callback, "mode", "min")})
    model_args, model_any = _signature_names(type(trainer.lightning_module))
    out: dict[str, Any] = {"metrics": sorted(result.metrics), "monitors": monitors,
                           "model_args": sorted(model_args), "model_takes_any": model_any}
    datamodule = getattr(trainer, "datamodule", None)
    if datamodule is not None:
        data_args, data_any = _signature_names(type(datamodule))
        out.update(data_args=sorted(data_args), data_takes_any=data_any)
    return out


def _stop_on_sigterm(parent_pid: int | None) -> threading.Event:
    """An event set by SIGTERM; on Linux also by the death of the sweep process (even by SIGKILL), so an orphaned
    trial stops at its next batch with a checkpoint instead of training for a study that no longer waits for it."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if parent_pid is not None and sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent_pid:  # the parent died before the line above took effect
            stop.set()
    return stop


def _run_trial(task: dict[str, Any]) -> dict[str, Any]:
    import optuna

    from trainer_core.callbacks.stop_on_request import StopOnRequest
    from trainer_core.runner import RunSpec, execute
    from trainer_core.sweep.study import make_pruner, storage_from_url

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=task["study_name"], storage=storage_from_url(task["storage"]),
                              sampler=optuna.samplers.RandomSampler(), pruner=make_pruner(task["pruner"]))
    trial = optuna.trial.Trial(study, task["trial_id"])
    reporter = TrialReporter(trial, task["metric"], task["direction"])
    stopper = StopOnRequest(_stop_on_sigterm(task.get("parent_pid")))
    spec = RunSpec.from_config(task["config"], "fit")
    try:
        result = execute(spec, callbacks=[reporter, stopper])
    except KeyboardInterrupt:
        return {"state": "stopped", "value": reporter.best, "values": reporter.values,
                "checkpoint": stopper.checkpoint_path}
    if stopper.fired:  # the trainer caught the interrupt itself and returned normally
        return {"state": "stopped", "value": reporter.best, "values": reporter.values,
                "checkpoint": stopper.checkpoint_path, "run_dir": result.log_dir}
    state = "pruned" if reporter.pruned else "complete"
    out = {"state": state, "value": reporter.best, "values": reporter.values, "run_dir": result.log_dir}
    if reporter.best is None:
        logged = ", ".join(sorted(result.metrics)) or "nothing"
        out.update(state="failed", error=f"the metric {task['metric']} was never logged in a validation (logged: "
                                         f"{logged}).")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m trainer_core.sweep.trial TASK.json", file=sys.stderr)
        return 2
    task = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    threads = task.get("threads")
    if threads:
        import torch

        torch.set_num_threads(int(threads))
    from trainer_core.exceptions import MisconfigurationError

    try:
        out = _preflight(task) if task.get("preflight") else _run_trial(task)
    except MisconfigurationError as err:
        out = {"state": "failed", "error": " ".join(str(err).split()), "bad_input": True}
    except Exception as err:  # noqa: BLE001 - the user's code failed: the trial is marked failed, the sweep goes on
        import traceback

        traceback.print_exc()
        out = {"state": "failed", "error": f"{type(err).__name__}: {err}"}
    _write_json(task["result"], out)
    return 0 if out.get("state") != "failed" else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
