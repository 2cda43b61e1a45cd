"""Run a user's model from a description: the one path the command line and the studio's worker share.

A :class:`RunSpec` says what to run (mode, script, class, constructor arguments, data, Trainer flags, checkpoint);
:func:`execute` loads the script and data, builds the Trainer, runs the mode and returns a :class:`RunResult`.
Bad input raises :class:`~trainer_core.exceptions.MisconfigurationError` subclasses (``ScriptError``,
``DataError``, ``ConfigError``) before anything runs; exceptions from the user's own code propagate unchanged.

Examples:
    >>> spec = RunSpec(mode="fit", model_script="resources/examples/mlp.py",
    ...                trainer_flags={"max_epochs": 2})                        # doctest: +SKIP
    >>> execute(spec).log_dir                                                  # doctest: +SKIP
    'lightning_logs/version_0'
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import validate_flags
from trainer_core.loading.build import build_datamodule, build_model, load_classes
from trainer_core.loading.objects import instantiate_flag_objects
from trainer_core.loading.spec import DEBUG_MODES, MODES, RunSpec

__all__ = ["MODES", "RunSpec", "RunResult", "execute"]

@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        mode: the mode that ran.
        log_dir: the run directory (None when nothing was written, e.g. fast_dev_run or ``logger=False``).
        metrics: ``trainer.callback_metrics`` as floats at the end.
        results: what validate/test returned (one dict per dataloader), else None.
        best_checkpoint: the checkpoint callback's best model path, if any.
        last_checkpoint: the last checkpoint written, if any.
        tune: ``{"lr": suggested learning rate or None, "batch_size": found batch size or None}``.
        predictions_path: predict mode: the file (``predictions.pt`` in the run directory) holding the predictions.
        stopped_early: why a fit ended before its epoch/step limits, when a callback (EarlyStopping, the
            ``max_time`` Timer) stopped it: ``"EarlyStopping: Monitored metric val_loss did not improve ..."``.
        interrupted: the run was stopped by a user (Ctrl-C, the studio's Stop, a stop signal); with ``ddp_spawn``
            it is the workers' verdict, which the caller's own callbacks did not see.
    """

    mode: str
    log_dir: str | None
    metrics: dict[str, float]
    results: list[dict[str, Any]] | None
    best_checkpoint: str | None
    last_checkpoint: str | None
    tune: dict[str, Any]
    predictions_path: str | None = None
    stopped_early: str | None = None
    interrupted: bool = False


def _mode_flags(spec: RunSpec) -> dict[str, Any]:
    """The Trainer flags with what the mode implies (debug runs, tuner switches)."""
    flags = dict(spec.trainer_flags)
    if spec.mode == "debug":
        if spec.debug not in DEBUG_MODES:
            raise MisconfigurationError(f"debug={spec.debug!r} is not valid: give {' or '.join(DEBUG_MODES)}.")
        if spec.debug == "batch_independence":
            flags["logger"] = False  # a check, not a run: nothing is written (and nothing is fitted)
        elif spec.debug == "overfit_batches" or flags.get("overfit_batches"):
            flags["overfit_batches"] = flags.get("overfit_batches") or 1
        elif not flags.get("fast_dev_run"):
            flags["fast_dev_run"] = True
    if spec.mode == "tune":
        lr_find, scale = spec.tune.get("lr_find"), spec.tune.get("scale_batch_size")
        if lr_find is None and scale is None and not flags.get("auto_lr_find") and not flags.get(
                "auto_scale_batch_size"):
            lr_find = True
        if lr_find and not flags.get("auto_lr_find"):
            flags["auto_lr_find"] = True
        if scale and not flags.get("auto_scale_batch_size"):
            flags["auto_scale_batch_size"] = scale if isinstance(scale, str) else True
    return flags


def _check_ckpt(spec: RunSpec) -> None:
    path = spec.ckpt_path
    if path is None:
        return
    if spec.mode == "tune":
        raise MisconfigurationError("ckpt_path is not used by tune: the tuners start from the model as built. Remove "
                                    "--ckpt_path, or run fit with it.")
    if path in ("best", "last") and spec.mode in ("validate", "test", "predict"):
        return
    if not os.path.isfile(path):
        raise MisconfigurationError(f"ckpt_path {path} does not exist (relative paths are taken from {os.getcwd()}). "
                                    "Give the path of a .ckpt file written by a previous run.")


def _floats(metrics: dict[str, Any]) -> dict[str, float]:
    out = {}
    for name, value in metrics.items():
        try:
            out[name] = float(value)
        except (TypeError, ValueError, RuntimeError):  # a non-scalar tensor: not a metric to report
            continue
    return out


def execute(spec: RunSpec, *, callbacks: Sequence[Any] = (), loggers: Sequence[Any] = (),
            on_trainer: Callable[[Any], None] | None = None) -> RunResult:
    """Load the script and data named by ``spec``, build the Trainer and run ``spec.mode``.

    Args:
        spec: what to run.
        callbacks: extra Callback objects (the studio's telemetry, for instance), added after the flag's ones.
        loggers: Logger objects; when given they replace the default logger (as ``Trainer(logger=[...])`` does).
        on_trainer: called with the Trainer once it is built, before the run starts (to print its run directory,
            or to keep a handle for stopping it).

    Raises:
        MisconfigurationError: bad flags, script, data, config or checkpoint path (before the run starts).
    """
    if spec.mode not in MODES:
        raise MisconfigurationError(f"mode {spec.mode!r} is not valid: give one of {', '.join(MODES)}.")
    import trainer_core as pl

    flags = instantiate_flag_objects(_mode_flags(spec))
    if callbacks:
        flags["callbacks"] = list(flags.get("callbacks") or []) + list(callbacks)
    if loggers:
        given = flags.get("logger")
        extra = [] if isinstance(given, bool) or given is None else list(given if isinstance(given, list) else [given])
        flags["logger"] = extra + list(loggers)
    validate_flags(flags)  # fail on a bad flag before importing the user's script
    _check_ckpt(spec)
    if spec.seed is not None:
        pl.seed_everything(spec.seed)
    model_cls, dm_cls = load_classes(spec)
    model = build_model(spec, model_cls)
    data_spec = spec
    if flags.get("overfit_batches") and spec.data and spec.data.get("path") and spec.data.get("shuffle") is None:
        # Overfitting replays the same first batches; a shuffled file loader would only earn a warning.
        data_spec = replace(spec, data={**spec.data, "shuffle": False})
    datamodule = build_datamodule(data_spec, dm_cls, model)
    trainer = pl.Trainer(**flags)
    trainer.trust_checkpoint = spec.trust_checkpoint
    _save_config(spec, trainer)
    if on_trainer is not None:
        on_trainer(trainer)
    return _run(spec, trainer, model, datamodule)


def _save_config(spec: RunSpec, trainer: Any) -> None:
    """Write the run's config to ``{log_dir}/config.yaml`` so the run can be repeated with ``--config``."""
    if trainer.logger is None or trainer.fast_dev_run or not trainer.is_global_zero:
        return
    from trainer_core.loading.config import dump_config

    folder = str(trainer.log_dir)
    os.makedirs(folder, exist_ok=True)
    config = spec.to_config()
    config["model"]["script"] = os.path.abspath(spec.model_script)  # the run folder is elsewhere
    for key in ("script", "path"):
        if config.get("data", {}).get(key):
            config["data"][key] = os.path.abspath(config["data"][key])
    tmp = os.path.join(folder, f"config.yaml.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as file:
        file.write(f"# {spec.mode} run; repeat it with: trainer-core {spec.mode} --config {folder}/config.yaml\n")
        file.write(dump_config(config))
    os.replace(tmp, os.path.join(folder, "config.yaml"))


def _check_batch_independence(spec: RunSpec, model: Any, datamodule: Any) -> RunResult:
    """Debug "batch_independence": say whether the model mixes samples across the batch (no training)."""
    from trainer_core.bolts.callbacks import check_batch_independence

    independent, message = check_batch_independence(model, datamodule=datamodule)
    print(message)  # the command line's answer; the studio shows the child's output in its console
    return RunResult(mode=spec.mode, log_dir=None, metrics={"batch_independent": float(independent)}, results=None,
                     best_checkpoint=None, last_checkpoint=None, tune={"lr": None, "batch_size": None})


def _run(spec: RunSpec, trainer: Any, model: Any, datamodule: Any) -> RunResult:
    if spec.mode == "debug" and spec.debug == "batch_independence":
        return _check_batch_independence(spec, model, datamodule)
    results: list[dict[str, Any]] | None = None
    tuned: dict[str, Any] = {"lr": None, "batch_size": None}
    predictions_path = None
    if spec.mode in ("fit", "debug"):
        trainer.fit(model, datamodule=datamodule, ckpt_path=spec.ckpt_path)
    elif spec.mode == "validate":
        results = trainer.validate(model, datamodule=datamodule, ckpt_path=spec.ckpt_path)
    elif spec.mode == "test":
        results = trainer.test(model, datamodule=datamodule, ckpt_path=spec.ckpt_path)
    elif spec.mode == "predict":
        predictions = trainer.predict(model, datamodule=datamodule, ckpt_path=spec.ckpt_path)
        if trainer.log_dir:
            import torch

            os.makedirs(trainer.log_dir, exist_ok=True)
            predictions_path = os.path.join(trainer.log_dir, "predictions.pt")
            torch.save(predictions, predictions_path)
    else:
        found = trainer.tune(model, datamodule=datamodule, lr_find_kwargs=spec.tune.get("lr_find_kwargs"),
                             scale_batch_size_kwargs=spec.tune.get("scale_batch_size_kwargs")) or {}
        finder = found.get("lr_find")
        if finder is not None:
            lr = finder.suggestion()
            tuned["lr"] = None if lr is None or not math.isfinite(lr) else float(lr)
        if found.get("scale_batch_size") is not None:
            tuned["batch_size"] = int(found["scale_batch_size"])
    checkpoint = getattr(trainer, "checkpoint_callback", None)
    best = (getattr(checkpoint, "best_model_path", "") or None) if checkpoint else None
    last = (getattr(checkpoint, "last_model_path", "") or None) if checkpoint else None
    if last is None and checkpoint is not None and getattr(checkpoint, "monitor", None) is None:
        last = best  # without a monitor the kept checkpoint is the latest one
    wrote_files = trainer.logger is not None and not trainer.fast_dev_run
    return RunResult(
        mode=spec.mode,
        log_dir=str(trainer.log_dir) if wrote_files and trainer.log_dir else None,
        metrics=_floats(dict(trainer.callback_metrics)),
        results=[dict(_floats(r)) for r in results] if results is not None else None,
        best_checkpoint=best,
        last_checkpoint=last,
        tune=tuned,
        predictions_path=predictions_path,
        stopped_early=_stop_reason(trainer) if spec.mode in ("fit", "debug") else None,
        interrupted=bool(trainer.interrupted),
    )


def _stop_reason(trainer: Any) -> str | None:
    """The first callback's account of why it stopped the fit, named after the callback."""
    for callback in trainer.callbacks:
        reason = getattr(callback, "stop_reason", None)
        if isinstance(reason, str) and reason:
            return f"{type(callback).__name__}: {reason}"
    return None
