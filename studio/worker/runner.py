"""Run a spec dict through ``trainer_core.runner.execute`` (the shared run API), with a small stand-in until then.

The stand-in covers what the studio needs from the runner when ``trainer_core.runner`` is not importable: a model
script (+ optional DataModule script or data file through ``trainer_core.loading``), Trainer flags and the six
modes. TODO(runner): delete ``_execute_fallback`` once trainer_core/runner.py has landed everywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

__all__ = ["execute_spec"]


def execute_spec(spec: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run ``spec`` (RunSpec fields as a dict) and return the RunResult as a plain dict."""
    try:
        from trainer_core.runner import RunSpec, execute
    except ImportError:
        return _execute_fallback(spec, callbacks)
    fields = {f.name for f in dataclasses.fields(RunSpec)}
    result = execute(RunSpec(**{k: v for k, v in spec.items() if k in fields}), callbacks=list(callbacks))
    return _plain(dataclasses.asdict(result) if dataclasses.is_dataclass(result) else dict(result))


def _plain(value: Any) -> Any:
    from trainer_core.telemetry.events import json_safe

    return json_safe(value)


def _execute_fallback(spec: dict[str, Any], callbacks: Sequence[Any]) -> dict[str, Any]:
    import trainer_core as pl
    from trainer_core.loading import load_datamodule_class, load_model_class

    mode = spec.get("mode", "fit")
    model_cls = load_model_class(spec["model_script"], spec.get("model_class"))
    model = model_cls(**(spec.get("model_init_args") or {}))
    datamodule = None
    data = spec.get("data") or None
    if data and data.get("script"):
        datamodule = load_datamodule_class(data["script"], data.get("class"))(**(data.get("init_args") or {}))
    elif data and data.get("path"):
        from trainer_core.loading import FileDataModule

        options = {k: v for k, v in data.items() if k != "path" and v is not None}
        datamodule = FileDataModule(data["path"], **options)
    flags = dict(spec.get("trainer_flags") or {})
    if mode == "debug":
        if spec.get("debug", "fast_dev_run") == "overfit_batches":
            flags.setdefault("overfit_batches", 2)
        else:
            flags["fast_dev_run"] = flags.get("fast_dev_run") or True
    flags["callbacks"] = list(flags.get("callbacks") or []) + list(callbacks)
    trainer = pl.Trainer(**flags)
    ckpt = spec.get("ckpt_path")
    results = None
    tune_out: dict[str, Any] = {"lr": None, "batch_size": None}
    if mode in ("fit", "debug"):
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt)
    elif mode in ("validate", "test"):
        results = getattr(trainer, mode)(model, datamodule=datamodule, ckpt_path=ckpt)
    elif mode == "predict":
        trainer.predict(model, datamodule=datamodule, ckpt_path=ckpt)
    elif mode == "tune":
        tune = spec.get("tune") or {}
        out = trainer.tune(
            model,
            datamodule=datamodule,
            lr_find_kwargs=tune.get("lr_find_kwargs") if tune.get("lr_find", True) else None,
            scale_batch_size_kwargs=tune.get("scale_batch_size_kwargs") if tune.get("scale_batch_size") else None,
        ) or {}
        finder = out.get("lr_find")
        tune_out["lr"] = finder.suggestion() if finder is not None else None
        tune_out["batch_size"] = out.get("scale_batch_size")
    else:
        raise ValueError(f"Unknown run mode {mode!r}; use fit, validate, test, predict, tune or debug.")
    checkpoint = getattr(trainer, "checkpoint_callback", None)
    return _plain({
        "mode": mode,
        "log_dir": str(trainer.log_dir) if trainer.loggers else None,
        "metrics": dict(trainer.callback_metrics),
        "results": results,
        "best_checkpoint": getattr(checkpoint, "best_model_path", None) or None,
        "last_checkpoint": getattr(checkpoint, "last_model_path", None) or None,
        "tune": tune_out,
    })
