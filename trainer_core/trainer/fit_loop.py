"""The fit loop: sanity check, epochs and batches (1.5 order; see ``trainer_core.hooks``).

One batch's optimization lives in ``optimization.py``, gradient norms and NaN checks in ``numerics.py``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.seed import capture_rng_state, restore_rng_state
from trainer_core.trainer import data as data_utils
from trainer_core.trainer.eval_loop import load_eval_loaders, publish_epoch_metrics, run_validation
from trainer_core.trainer.logging_utils import log_to_loggers, save_loggers, step_metrics_payload
from trainer_core.trainer.numerics import check_finite, grad_norm_dict, grad_norm_type
from trainer_core.trainer.optimization import automatic_batch, format_epoch_outputs, live_hooks, manual_batch, profile
from trainer_core.trainer.optimizers import step_schedulers
from trainer_core.trainer.results import ResultCollection
from trainer_core.trainer.tbptt import check_tbptt_signature
from trainer_core.trainer.transfer import batch_size_of, transfer_batch

__all__ = ["run_fit", "grad_norm_dict", "grad_norm_type"]

log = logging.getLogger("trainer_core")

_SKIP_EPOCH = object()
_profile = profile


def run_fit(trainer: Any) -> None:
    t, hooks, module = trainer, trainer._hooks, trainer.lightning_module
    t._profiling = not getattr(t.profiler, "is_passthrough", type(t.profiler).__name__ == "PassThroughProfiler")
    t._grad_norm_type = grad_norm_type(t)
    t.grad_norms = {}
    t._live_hooks = live_hooks(t)
    if t._profiling and hasattr(t.profiler, "register_module"):
        t.profiler.register_module(module)  # PyTorchProfiler: per-module forward scopes (removed at teardown)
    hooks.call("on_fit_start")
    hooks.call("on_pretrain_routine_start")
    hooks.call("on_pretrain_routine_end")
    _log_hyperparams(t)
    t._val_loaders_loaded = False
    t._overfit_source = None
    t._val_enabled = _validation_defined(t)
    if t._val_enabled and t.num_sanity_val_steps > 0 and not _resuming(t):
        _run_sanity_check(t)
    module.train()
    _load_train_loader(t)
    if t.num_training_batches == 0:
        log.info("limit_train_batches selects no training batch: skipping training")
    else:
        hooks.call("on_train_start")
        _run_epochs(t)
        hooks.call("on_train_end")
    save_loggers(t)
    t._finalize_loggers("success")
    hooks.call("on_fit_end")


def _resuming(t: Any) -> bool:
    return bool(t._resume_skip_batches or t._resume_epoch_end or t.global_step)


def _validation_defined(t: Any) -> bool:
    """Validation runs when the module defines validation_step and limit_val_batches does not turn it off."""
    return t._hooks.module_overrides("validation_step") and t.limit_val_batches != 0


def _log_hyperparams(t: Any) -> None:
    if not t.loggers or not t.is_global_zero:
        return
    params: dict[str, Any] = {}
    module, dm = t.lightning_module, t.datamodule
    if getattr(module, "_log_hyperparams", True):
        params.update(module.hparams)
    if dm is not None and getattr(dm, "_log_hyperparams", True):
        params.update(dm.hparams)
    for logger in t.loggers:
        logger.log_hyperparams(params)


def _run_sanity_check(t: Any) -> None:
    hooks = t._hooks
    hooks.callbacks("on_sanity_check_start")
    load_eval_loaders(t, "val")
    limits = [min(t.num_sanity_val_steps, n) for n in t.num_val_batches]
    t.num_sanity_val_batches = limits
    if sum(limits) > 0:
        t.state.sanity_checking = True
        saved_metrics = dict(t.callback_metrics)
        try:
            run_validation(t, limits=limits, sanity=True)
        finally:
            t.state.sanity_checking = False
        # Metrics logged in the sanity check are discarded.
        t.callback_metrics.clear()
        t.callback_metrics.update(saved_metrics)
        t._progress_bar_tensors.clear()
    hooks.callbacks("on_sanity_check_end")


def _load_train_loader(t: Any) -> None:
    hooks = t._hooks
    hooks.module("on_train_dataloader")
    loader = _train_loader(t)
    t.train_dataloader = loader
    t.num_training_batches = data_utils.num_batches(loader, t.limit_train_batches, "train")
    if t.overfit_batches > 0:
        t._overfit_source = loader
    _compute_val_check_batch(t)
    if t.num_training_batches not in (0, math.inf) and t.num_training_batches < t.log_every_n_steps \
            and t.loggers and not t.fast_dev_run:
        log.warning("The number of training batches (%d) is smaller than log_every_n_steps=%d: step metrics "
                    "reach the logger rarely. Set log_every_n_steps lower", t.num_training_batches,
                    t.log_every_n_steps)


def _train_loader(t: Any) -> Any:
    """The training loader as the loop iterates it: combined, sequential under overfit_batches, DDP-ready."""
    loader = _source(t, "train")
    if loader is None:
        raise MisconfigurationError(
            f"No training data: {type(t.lightning_module).__name__} has no train_dataloader() and none was passed. "
            "Define train_dataloader() in the module or a LightningDataModule, or call "
            "trainer.fit(model, train_dataloaders=DataLoader(...))")
    loader = data_utils.combine_train_loaders(loader, t.multiple_trainloader_mode)
    return data_utils.prepare_loader(loader, shuffle_for_ddp=True, sequential=t.overfit_batches > 0,
                                     strategy=t.strategy, use_distributed_sampler=t.use_distributed_sampler)


def overfit_eval_loaders(t: Any, count: int) -> list[Any]:
    """``overfit_batches`` (1.5): ``count`` sequential copies of the training loader stand in for val/test loaders.

    Inside fit the loop's own training loader is reused; the sanity check (which runs before it is built) and a
    stand-alone validate/test build it from the usual source.
    """
    source = getattr(t, "_overfit_source", None)
    if source is None:
        source = t._overfit_source = _train_loader(t)
    return [source] * max(count, 1)


def _source(t: Any, kind: str) -> Any:
    """The loader for ``kind`` from fit() arguments, the datamodule, or the module (in that order)."""
    given = getattr(t, "_given_loaders", {})
    for key in ("train_dataloaders",) if kind == "train" else ("val_dataloaders", "dataloaders"):
        if given.get(key) is not None:
            return given[key]
    method = f"{kind}_dataloader"
    dm = t.datamodule
    if dm is not None and hasattr(dm, method):
        return getattr(dm, method)()
    if hasattr(t.lightning_module, method):
        return t._hooks.module(method) if t._hooks.module_overrides(method) else getattr(t.lightning_module,
                                                                                          method)()
    return None


def _compute_val_check_batch(t: Any) -> None:
    interval, n = t.val_check_interval, t.num_training_batches
    if isinstance(interval, int):
        if n != math.inf and interval > n and t.check_val_every_n_epoch is not None:
            raise MisconfigurationError(
                f"val_check_interval={interval} must be <= the number of training batches ({n}). Lower it, or set "
                "limit_val_batches=0 to turn validation off")
        t.val_check_batch = interval
    elif n == math.inf:
        if interval != 1.0:
            raise MisconfigurationError(
                f"val_check_interval={interval} is a fraction, but the training dataloader has no length; use 1.0 "
                "or an int number of batches")
        t.val_check_batch = math.inf
    else:
        t.val_check_batch = max(1, int(n * interval))


def _run_epochs(t: Any) -> None:
    progress = t.progress
    if t._resume_epoch_end:
        if not progress.epoch_schedulers_stepped:
            step_schedulers(t, "epoch", progress.current_epoch + 1)
        _finish_epoch_counters(t)
        t._resume_epoch_end = False
    if t._resume_rng is not None and not t._resume_skip_batches:
        restore_rng_state(t._resume_rng["current"])
    first = True
    while True:
        if t.max_epochs != -1 and progress.current_epoch >= t.max_epochs:
            break
        if _max_steps_reached(t):
            break
        if t.should_stop:
            if _minimum_reached(t):
                break
            log.info("Trainer was signaled to stop but the required min_epochs=%d or min_steps=%d has not been "
                     "met. Training will continue...", t.min_epochs, t.min_steps)
            t.should_stop = False
        n = t.reload_dataloaders_every_n_epochs
        if n and not first and progress.current_epoch % n == 0:
            _load_train_loader(t)
            t._val_loaders_loaded = False
        first = False
        _run_training_epoch(t)


def _max_steps_reached(t: Any) -> bool:
    return t.max_steps != -1 and t.global_step >= t.max_steps


def _minimum_reached(t: Any) -> bool:
    return t.current_epoch >= t.min_epochs and t.global_step >= t.min_steps


def _finish_epoch_counters(t: Any) -> None:
    progress = t.progress
    progress.current_epoch += 1
    progress.batches_done_in_epoch = 0
    progress.epoch_finished = False
    progress.epoch_schedulers_stepped = False


def _run_training_epoch(t: Any) -> None:
    hooks, progress, module = t._hooks, t.progress, t.lightning_module
    results = ResultCollection("train")
    results.callback_metrics, results.progress_bar_tensors = t.callback_metrics, t._progress_bar_tensors
    results.batch_size_fn = lambda: batch_size_of(t)
    t._results = results
    t._in_train_loop = True
    hooks.call("on_epoch_start")
    hooks.call("on_train_epoch_start")
    tbptt = module.truncated_bptt_steps or t.truncated_bptt_steps or 0
    if tbptt:
        check_tbptt_signature(module)
    collect = t._hooks.module_overrides("training_epoch_end")
    epoch_outputs: list[Any] = []
    skip = t._resume_skip_batches
    resume_rng = t._resume_rng
    if skip and resume_rng is not None and resume_rng.get("epoch_start") is not None:
        restore_rng_state(resume_rng["epoch_start"])
    t._epoch_start_rng = capture_rng_state()
    n = t.num_training_batches
    t.strategy.before_train_epoch(t, progress.current_epoch)  # DistributedSampler.set_epoch; batch-size report
    with _profile(t, "run_training_epoch"):
        iterator = iter(t.train_dataloader)
        stream = _lookahead(iterator) if n == math.inf else None
        batch_idx = 0
        while batch_idx < n:
            with _profile(t, "get_train_batch"):
                try:
                    if stream is None:
                        batch, is_last = next(iterator), batch_idx + 1 == n
                    else:
                        batch, is_last = next(stream)
                except StopIteration:
                    break
            if batch_idx < skip:  # resuming mid-epoch: replay the data order, skip the work
                batch_idx += 1
                if batch_idx == skip and resume_rng is not None:
                    restore_rng_state(resume_rng["current"])
                continue
            t.batch_idx = batch_idx
            outputs = _run_train_batch(t, results, batch, batch_idx, is_last, tbptt)
            if outputs is _SKIP_EPOCH:
                break
            if collect and outputs is not None:
                epoch_outputs.append(outputs)
            if _should_validate(t, batch_idx, is_last):
                run_validation(t)
            if _max_steps_reached(t) or (t.should_stop and _minimum_reached(t)):
                break
            batch_idx += 1
    t._resume_skip_batches, t._resume_rng = 0, None
    progress.epoch_finished = True
    if collect:
        hooks.module("training_epoch_end", format_epoch_outputs(t, epoch_outputs, tbptt))
    publish_epoch_metrics(t, results)
    hooks.call("on_train_epoch_end")
    hooks.call("on_epoch_end")
    epoch_values = publish_epoch_metrics(t, results)
    if epoch_values:
        log_to_loggers(t, epoch_values)
    save_loggers(t)
    step_schedulers(t, "epoch", progress.current_epoch + 1)
    progress.epoch_schedulers_stepped = True
    t._in_train_loop = False
    _finish_epoch_counters(t)


def _lookahead(iterator: Any) -> Any:
    """For loaders without a length: fetch one batch ahead to know whether the current one is the last."""
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for item in iterator:
        yield previous, False
        previous = item
    yield previous, True


def _should_validate(t: Any, batch_idx: int, is_last: bool) -> bool:
    if not t._val_enabled or t.val_check_batch is None:
        return False
    every = t.check_val_every_n_epoch
    if every is not None and (t.current_epoch + 1) % every != 0:
        return False
    if t.val_check_batch == math.inf:
        return is_last
    if every is None:
        return t.progress.total_batch_idx % t.val_check_batch == 0
    return (batch_idx + 1) % t.val_check_batch == 0


def _run_train_batch(t: Any, results: ResultCollection, batch: Any, batch_idx: int, is_last: bool,
                     tbptt: int) -> Any:
    hooks, progress, module = t._hooks, t.progress, t.lightning_module
    if t._needs_transfer:
        with _profile(t, "training_batch_to_device"):
            batch = transfer_batch(t, batch, 0)
    t._current_batch = batch
    t._current_batch_bs = None
    results.batch_serial += 1
    live = t._live_hooks
    if "on_batch_start" in live:
        hooks.callbacks("on_batch_start")
    if "on_train_batch_start" in live:
        hooks.callbacks("on_train_batch_start", batch, batch_idx, 0)
        if hooks.module("on_train_batch_start", batch, batch_idx, 0) == -1:
            return _SKIP_EPOCH
    t._stepped_this_batch = False
    with _profile(t, "run_training_batch"):
        if module.automatic_optimization:
            outputs = automatic_batch(t, batch, batch_idx, is_last, tbptt)
        else:
            outputs = manual_batch(t, batch, batch_idx, tbptt)
    progress.batches_done_in_epoch = batch_idx + 1
    progress.total_batch_idx += 1
    if t._stepped_this_batch:
        progress.batches_that_stepped += 1
        if t.lr_schedulers:
            step_schedulers(t, "step", progress.batches_that_stepped)
    if t.terminate_on_nan:
        check_finite(t, outputs)
    if "on_train_batch_end" in live:
        hooks.call("on_train_batch_end", outputs, batch, batch_idx, 0)
    if "on_batch_end" in live:
        hooks.callbacks("on_batch_end")
    if (t._stepped_this_batch and progress.batches_that_stepped % t.log_every_n_steps == 0) or t.should_stop:
        payload = step_metrics_payload(t, results)
        if payload is not None:
            log_to_loggers(t, payload)
    return outputs
