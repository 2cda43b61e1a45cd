"""Evaluation loops: validation inside fit (and its sanity check), and the validate/test/predict stages."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.hooks import profiling_enabled
from trainer_core.trainer import data as data_utils
from trainer_core.trainer.fit_run import profile as _profile
from trainer_core.trainer.logging_utils import finish_epoch_logging, log_eval_step, publish_epoch_metrics
from trainer_core.trainer.results import ResultCollection
from trainer_core.trainer.transfer import batch_size_of, transfer_batch

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["run_validation", "run_evaluation_stage", "load_eval_loaders", "publish_epoch_metrics"]

log = logging.getLogger("trainer_core")

_KIND = {"val": "validation", "validate": "validation", "test": "test", "predict": "predict"}
_LIMIT = {"val": "limit_val_batches", "test": "limit_test_batches", "predict": "limit_predict_batches"}
_NUM = {"val": "num_val_batches", "test": "num_test_batches", "predict": "num_predict_batches"}
_LOADERS = {"val": "val_dataloaders", "test": "test_dataloaders", "predict": "predict_dataloaders"}


def load_eval_loaders(t: Trainer, kind: str) -> list[Any]:
    """Request the ``kind`` ("val", "test", "predict") loaders and count their batches under the limits."""
    hooks = t._hooks
    hooks.module(f"on_{kind}_dataloader")
    loaders = data_utils.as_loader_list(data_utils.source_loader(t, kind))
    if t.overfit_batches > 0 and kind in ("val", "test"):
        # 1.5: evaluate on sequential copies of the training loader, one per original loader.
        loaders = data_utils.overfit_eval_loaders(t, len(loaders))
    loaders = [data_utils.prepare_loader(loader, shuffle_for_ddp=False, sequential=False, strategy=t.strategy,
                                         use_distributed_sampler=t.use_distributed_sampler) for loader in loaders]
    for loader in loaders:
        if data_utils.has_len(loader) and len(loader) == 0:
            log.warning("a %s dataloader has no batches", kind)
    limit = getattr(t, _LIMIT[kind])
    setattr(t, _LOADERS[kind], loaders)
    setattr(t, _NUM[kind], [data_utils.num_batches(loader, limit, kind) for loader in loaders])
    if kind == "val":
        t._val_loaders_loaded = True
    return loaders


def run_validation(t: Trainer, limits: list[Any] | None = None, sanity: bool = False) -> None:
    """One validation run inside fit (or the sanity check when ``sanity``)."""
    hooks = t._hooks
    if not t._val_loaders_loaded:
        load_eval_loaders(t, "val")
    limits = limits if limits is not None else t.num_val_batches
    if not t.val_dataloaders or sum(limits) == 0:
        return
    previous = t._results
    t._in_eval_loop = True
    was_training = t.lightning_module.training
    hooks.module("on_validation_model_eval")
    t.lightning_module.zero_grad()  # 1.5: gradients are cleared before every evaluation
    try:
        hooks.call("on_validation_start")
        results = _eval_epoch(t, "validation", t.val_dataloaders, limits, publish=not sanity)
        hooks.call("on_validation_end")
    finally:
        if was_training:
            hooks.module("on_validation_model_train")
        t._results = previous
        t._in_eval_loop = False
    del results


def run_evaluation_stage(t: Trainer, stage: str, verbose: bool) -> Any:
    """The validate/test/predict stages."""
    kind = {"validate": "val", "test": "test", "predict": "predict"}[stage]
    name = _KIND[kind]
    module, hooks = t.lightning_module, t._hooks
    t._profiling = profiling_enabled(t.profiler)
    step = f"{name}_step"
    if kind != "predict" and not hooks.module_overrides(step):
        raise MisconfigurationError(
            f"{type(module).__name__} has no {step}(); define `def {step}(self, batch, batch_idx)` to run "
            f"trainer.{stage}")
    loaders = load_eval_loaders(t, kind)
    if not loaders:
        raise MisconfigurationError(
            f"No {kind} data: define {kind}_dataloader() in the module or datamodule, or pass "
            f"trainer.{stage}(model, dataloaders=DataLoader(...))")
    limits = getattr(t, _NUM[kind])
    if kind != "predict" and sum(limits) == 0:
        # 1.5 skips the whole evaluation (no eval-mode switch, no start/epoch/end hooks) when no batch would run,
        # e.g. limit_val_batches=0, and returns no results.
        return []
    hooks.module(f"on_{name}_model_eval")
    module.zero_grad()  # 1.5: gradients are cleared before every evaluation
    hooks.call(f"on_{name}_start")
    results = _eval_epoch(t, name, loaders, limits, publish=True)
    hooks.call(f"on_{name}_end")
    if kind == "predict":
        return results
    hooks.module(f"on_{name}_model_train")  # 1.5: validate()/test() leave the model in train mode
    output = _results_per_dataloader(t, results, len(loaders))
    if verbose and t.is_global_zero:
        _print_results(stage, output)
    return output


def _eval_epoch(t: Trainer, name: str, loaders: list[Any], limits: list[Any], publish: bool) -> Any:
    hooks = t._hooks
    results = ResultCollection(name)
    # 1.5: evaluation step values reach the progress bar (prog_bar=True, on_step=True) but not callback_metrics
    results.callback_metrics = None
    results.progress_bar_tensors = t._progress_bar_tensors
    results.batch_size_fn = lambda: batch_size_of(t)
    results.num_dataloaders = len(loaders)
    t._results = results
    predicting = name == "predict"
    if not predicting:
        hooks.call("on_epoch_start")
    hooks.call(f"on_{name}_epoch_start")
    collect = predicting or hooks.module_overrides(f"{name}_epoch_end")
    all_outputs: list[list[Any]] = []
    grad_context = torch.inference_mode() if t.inference_mode else torch.no_grad()
    with grad_context, _profile(t, f"run_{name}_evaluation"):
        for dl_idx, (loader, limit) in enumerate(zip(loaders, limits)):
            results.dataloader_idx = dl_idx
            all_outputs.append(_eval_loader(t, results, name, loader, limit, dl_idx, len(loaders) > 1, collect))
    results.dataloader_idx = None
    epoch_input = all_outputs[0] if len(all_outputs) == 1 else all_outputs
    if predicting:
        hooks.call("on_predict_epoch_end", all_outputs)
        return epoch_input
    if collect:
        hooks.module(f"{name}_epoch_end", epoch_input)
    if publish:
        publish_epoch_metrics(t, results)
    hooks.call(f"on_{name}_epoch_end")
    hooks.call("on_epoch_end")
    if publish:
        finish_epoch_logging(t, results)
    else:
        results.reset_metric_objects()  # the sanity check's updates do not count toward the first validation
    return results


def _eval_loader(t: Trainer, results: ResultCollection, name: str, loader: Any, limit: int | float, dl_idx: int,
                 several: bool, collect: bool) -> list[Any]:
    """One dataloader's batches: transfer, batch hooks, ``{name}_step`` (+ ``_step_end``); returns the outputs."""
    hooks, precision = t._hooks, t._precision
    predicting = name == "predict"
    has_step_end = hooks.module_overrides(f"{name}_step_end")
    stage_tag = "sanity_check" if t.sanity_checking else ("validate" if name == "validation" else name)
    outputs: list[Any] = []
    iterator = iter(loader)
    batch_idx = 0
    while batch_idx < limit:
        with _profile(t, f"get_{stage_tag}_batch"):
            try:
                batch = next(iterator)
            except StopIteration:
                break
        if t._needs_transfer:
            with _profile(t, "evaluation_batch_to_device"):
                batch = transfer_batch(t, batch, dl_idx)
        t._current_batch, t._current_batch_bs = batch, None
        results.batch_serial += 1
        hooks.call(f"on_{name}_batch_start", batch, batch_idx, dl_idx)
        args: list[Any] = [batch, batch_idx]
        if several or predicting:
            args.append(dl_idx)
        with _profile(t, "evaluation_step_and_end"), precision.forward_context():
            with _profile(t, f"{name}_step"):
                out = t.strategy.eval_step(t, f"{name}_step", *args)
            if has_step_end:
                out = hooks.module(f"{name}_step_end", out)
        hooks.call(f"on_{name}_batch_end", out, batch, batch_idx, dl_idx)
        log_eval_step(t, results)
        if collect:
            outputs.append(out)
        batch_idx += 1
    return outputs


def _results_per_dataloader(t: Trainer, results: ResultCollection, count: int) -> list[dict[str, float]]:
    return results.results_per_dataloader(t.strategy.reduce if t.world_size > 1 else None, count)


def _print_results(stage: str, output: list[dict[str, float]]) -> None:
    for idx, metrics in enumerate(output):
        if not metrics:
            continue
        title = f"{stage.capitalize()} results" + (f" (dataloader {idx})" if len(output) > 1 else "")
        width = max(len(name) for name in metrics) + 2
        lines = [title, "-" * (width + 14)]
        lines += [f"{name:<{width}}{value:>14.6g}" for name, value in sorted(metrics.items())]
        print("\n".join(lines))
