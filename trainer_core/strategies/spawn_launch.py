"""How ``strategy="ddp_spawn"`` (and 1.x ``ddp_cpu``) starts its workers: ``torch.multiprocessing`` (spawn).

The trainer, model and stage travel to every worker as one pickled payload; rank 0 sends the final weights, metrics
and checkpoint paths back through a queue, and the calling process adopts them (the 1.x behaviour).

Two details make ordinary runs work:

- Thread locks (loggers and recorders hold them) pickle as fresh locks: a lock only guards one process's threads.
- Scripts imported from a file path under a private module name (the CLI and the studio load model scripts that
  way) cannot be imported by name in a fresh process, so each worker imports those files first, under the same
  names, and only then unpickles the payload.
"""

from __future__ import annotations

import copyreg
import importlib.machinery
import importlib.util
import io
import os
import pickle
import sys
import threading
from typing import Any

import torch

from trainer_core.strategies.environment import free_port

__all__ = ["file_loaded_modules", "spawn_launch"]


def spawn_launch(strategy: Any, trainer: Any, stage: str, body: Any) -> Any:
    """Run ``trainer._run_stage_here(stage, body)`` in ``strategy.num_devices`` spawned workers; rank 0's results
    (weights, metrics, counters, checkpoint paths) are copied back into ``trainer``."""
    import torch.multiprocessing as mp

    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    port = str(free_port())
    payload = _dumps((trainer, stage, body))
    mp.start_processes(_spawn_entry, args=(payload, file_loaded_modules(), port, queue), nprocs=strategy.num_devices,
                       join=True, start_method="spawn")
    # Tensors travel as bytes: torch's shared-memory handles die with the worker that made them.
    outcome = torch.load(io.BytesIO(queue.get()), weights_only=False)
    _apply_outcome(trainer, outcome)
    return outcome.get("result")


def _new_lock(kind: str) -> Any:
    return threading.RLock() if kind == "rlock" else threading.Lock()


_LOCK_TABLE = {
    type(threading.Lock()): lambda lock: (_new_lock, ("lock",)),
    type(threading.RLock()): lambda lock: (_new_lock, ("rlock",)),
}


def _dumps(obj: Any) -> bytes:
    """Pickle by value (tensors included) with thread locks replaced by fresh ones in the copy."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, **_LOCK_TABLE}
    pickler.dump(obj)
    return buffer.getvalue()


def file_loaded_modules() -> dict[str, str]:
    """Top-level modules that were loaded from a file path and cannot be found by name: {name: file}."""
    found: dict[str, str] = {}
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if "." in name or not path or name == "__main__" or not str(path).endswith(".py"):
            continue
        if getattr(getattr(module, "__spec__", None), "name", name) != name:
            continue
        if importlib.machinery.PathFinder.find_spec(name) is None:
            found[name] = str(path)
    return found


def _import_file_modules(modules: dict[str, str]) -> None:
    for name, path in modules.items():
        if name in sys.modules or not os.path.isfile(path):
            continue
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            continue
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception:
            # A script the parent loaded earlier that this run does not use (and cannot import here): skip it. If
            # the run does need it, unpickling the trainer fails next with the module's name.
            del sys.modules[name]


def _spawn_entry(local_rank: int, payload: bytes, modules: dict[str, str], port: str, queue: Any) -> None:
    _import_file_modules(modules)
    trainer, stage, body = pickle.loads(payload)
    _spawn_worker(local_rank, trainer, stage, body, port, queue)


def _spawn_worker(local_rank: int, trainer: Any, stage: str, body: Any, port: str, queue: Any) -> None:
    strategy = trainer.strategy
    os.environ["MASTER_ADDR"] = os.environ.get("MASTER_ADDR", "127.0.0.1")
    os.environ["MASTER_PORT"] = port
    strategy.launches_processes = False
    strategy._set_ranks(local_rank, local_rank, 0, strategy.num_devices)
    from trainer_core.seed import reset_seed

    reset_seed()
    try:
        result = trainer._run_stage_here(stage, body)
        if strategy.is_global_zero:
            buffer = io.BytesIO()
            torch.save(_collect_outcome(trainer, result), buffer)
            queue.put(buffer.getvalue())
        strategy.barrier()  # every rank is done with the process group
    except BaseException:
        strategy.destroy()
        raise
    # Success: leave without running destructors. Tearing gloo down at interpreter exit can abort a worker
    # ("terminate called without an active exception", SIGABRT) after its work is done and its results are sent.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _collect_outcome(trainer: Any, result: Any) -> dict[str, Any]:
    from trainer_core.trainer.results import to_floats

    module = trainer.lightning_module
    checkpoint = trainer.checkpoint_callback
    return {
        "result": result,
        "state_dict": {k: v.detach().cpu() for k, v in module.state_dict().items()},
        "callback_metrics": to_floats(trainer.callback_metrics),
        "logged_metrics": dict(trainer.logged_metrics),
        "current_epoch": trainer.current_epoch,
        "global_step": trainer.global_step,
        "status": trainer.state.status,
        "logger_versions": [getattr(logger, "version", None) for logger in trainer.loggers],
        "best_model_path": getattr(checkpoint, "best_model_path", None),
        "last_model_path": getattr(checkpoint, "last_model_path", None),
        "best_model_score": float(checkpoint.best_model_score) if getattr(checkpoint, "best_model_score", None)
        is not None else None,
    }


def _apply_outcome(trainer: Any, outcome: dict[str, Any]) -> None:
    module = trainer.lightning_module
    module.load_state_dict(outcome["state_dict"])
    trainer.callback_metrics.update({k: torch.tensor(v) for k, v in outcome["callback_metrics"].items()})
    trainer.logged_metrics.update(outcome["logged_metrics"])
    trainer.progress.current_epoch = outcome["current_epoch"]
    trainer.progress.global_step = outcome["global_step"]
    trainer.state.status = outcome["status"]
    # The workers chose the logger version (rank 0 created its folder); the caller must point at the same one.
    for logger, version in zip(trainer.loggers, outcome.get("logger_versions", [])):
        if version is not None and hasattr(logger, "_version"):
            logger._version = version
    checkpoint = trainer.checkpoint_callback
    if checkpoint is not None and outcome.get("best_model_path"):
        checkpoint.best_model_path = outcome["best_model_path"]
        checkpoint.last_model_path = outcome.get("last_model_path") or ""
        if outcome.get("best_model_score") is not None:
            checkpoint.best_model_score = torch.tensor(outcome["best_model_score"])

