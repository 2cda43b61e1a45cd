"""The fit loop: sanity check, epochs and batches (1.5 order; the loop map is in ``trainer_core.hooks``).

Read top down: :func:`run_fit` -> :func:`_run_epochs` -> :func:`_run_training_epoch` -> :func:`_run_train_batch`,
which hands one batch's optimization to ``optimization.automatic_batch``. The fit's constant step plan and its
per-batch scratch state live in one :class:`~trainer_core.trainer.fit_run.FitRun`, made here and passed down.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import TYPE_CHECKING, Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.seed import capture_rng_state, restore_rng_state
from trainer_core.trainer import data as data_utils
from trainer_core.trainer.eval_loop import load_eval_loaders, publish_epoch_metrics, run_validation
from trainer_core.trainer.fit_run import FitRun, plan_fit, profile, timed
from trainer_core.trainer.logging_utils import (
    call_and_log_hook,
    finish_epoch_logging,
    log_to_loggers,
    save_loggers,
    step_metrics_payload,
)
from trainer_core.trainer.numerics import check_finite, grad_norm_dict, grad_norm_type
from trainer_core.trainer.optimization import automatic_batch, format_epoch_outputs, manual_batch
from trainer_core.trainer.optimizers import step_schedulers
from trainer_core.trainer.results import ResultCollection
from trainer_core.trainer.tbptt import check_tbptt_signature
from trainer_core.trainer.transfer import batch_size_of, transfer_batch

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["run_fit", "grad_norm_dict", "grad_norm_type"]

log = logging.getLogger("trainer_core")

_SKIP_EPOCH = object()


def run_fit(t: Trainer) -> None:
    """Everything of ``fit`` after ``on_fit_start`` (called by ``stages.fit_impl``, which restores the optimizers
    after it): the pretrain-routine hooks, the sanity check, the epochs, the fit-end hooks."""
    hooks, module = t._hooks, t.lightning_module
    run = t._fit_run = plan_fit(t)
    t._profiling = run.profiling
    t.grad_norms = {}
    if run.profiling and hasattr(t.profiler, "register_module"):
        t.profiler.register_module(module)  # PyTorchProfiler: per-module forward scopes (removed at teardown)
    hooks.call("on_pretrain_routine_start")
    hooks.call("on_pretrain_routine_end")
    _log_hyperparams(t)
    t._val_loaders_loaded = False
    t._overfit_source = None
    if run.validation and t.num_sanity_val_steps > 0 and not _resuming(t):
        _run_sanity_check(t)
    module.train()
    _load_train_loader(t)
    if run.validation and not t._val_loaders_loaded:
        # 1.5 loads the val loaders with the train loader, so num_val_batches (a progress bar's total) is known in
        # the first epoch also when no sanity check loaded them.
        load_eval_loaders(t, "val")
    if t.num_training_batches == 0:
        log.info("limit_train_batches selects no training batch: skipping training")
    else:
        call_and_log_hook(t, "on_train_start")  # what it logs reaches the loggers (1.5)
        _run_epochs(t, run)
        hooks.call("on_train_end")
    hooks.call("on_fit_end")
    save_loggers(t)
    t._finalize_loggers("success")  # after on_fit_end, as in 1.5


def _resuming(t: Trainer) -> bool:
    return bool(t._resume_skip_batches or t._resume_epoch_end or t.global_step)


def _log_hyperparams(t: Trainer) -> None:
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
        logger.log_graph(module)  # once per fit, as 1.5 does; a no-op unless the logger draws graphs


def _run_sanity_check(t: Trainer) -> None:
    """A few validation batches before training; its metrics and its use of the random streams are undone."""
    hooks = t._hooks
    hooks.callbacks("on_sanity_check_start")
    load_eval_loaders(t, "val")
    limits = [min(t.num_sanity_val_steps, n) for n in t.num_val_batches]
    t.num_sanity_val_batches = limits
    if sum(limits) > 0:
        rng = capture_rng_state()  # 1.5: training's random stream does not depend on num_sanity_val_steps
        t.state.sanity_checking = True
        saved_metrics = dict(t.callback_metrics)
        try:
            run_validation(t, limits=limits, sanity=True)
        finally:
            t.state.sanity_checking = False
        restore_rng_state(rng)
        # Metrics logged in the sanity check are discarded.
        t.callback_metrics.clear()
        t.callback_metrics.update(saved_metrics)
        t._progress_bar_tensors.clear()
    hooks.callbacks("on_sanity_check_end")


def _load_train_loader(t: Trainer) -> None:
    t._hooks.module("on_train_dataloader")
    loader = data_utils.train_loader(t)
    t.train_dataloader = loader
    t.num_training_batches = data_utils.num_batches(loader, t.limit_train_batches, "train")
    if t.overfit_batches > 0:
        t._overfit_source = loader
    t.val_check_batch = val_check_batch(t.val_check_interval, t.num_training_batches, t.check_val_every_n_epoch)
    if t.num_training_batches not in (0, math.inf) and t.num_training_batches < t.log_every_n_steps \
            and t.loggers and not t.fast_dev_run:
        log.warning("The number of training batches (%d) is smaller than log_every_n_steps=%d: step metrics "
                    "reach the logger rarely. Set log_every_n_steps lower", t.num_training_batches,
                    t.log_every_n_steps)


def val_check_batch(interval: int | float, n: int | float, every_n_epochs: int | None) -> int | float:
    """The batch count between validation runs for ``val_check_interval`` (int batches or float fraction)."""
    if isinstance(interval, int):
        if n != math.inf and interval > n and every_n_epochs is not None:
            raise MisconfigurationError(
                f"val_check_interval={interval} must be <= the number of training batches ({n}). Lower it, or set "
                "limit_val_batches=0 to turn validation off")
        return interval
    if n == math.inf:
        if interval != 1.0:
            raise MisconfigurationError(
                f"val_check_interval={interval} is a fraction, but the training dataloader has no length; use 1.0 "
                "or an int number of batches")
        return math.inf
    return max(1, int(n * interval))


def _run_epochs(t: Trainer, run: FitRun) -> None:
    progress = t.progress
    if t._resume_epoch_end:
        if not progress.epoch_schedulers_stepped and t.lightning_module.automatic_optimization:
            step_schedulers(t, "epoch", progress.current_epoch + 1)
        _finish_epoch_counters(t)
        t._resume_epoch_end = False
    if t._resume_rng is not None and not t._resume_skip_batches:
        restore_rng_state(t._resume_rng["current"])
    first = True
    while not _fit_done(t):
        n = t.reload_dataloaders_every_n_epochs
        if n and not first and progress.current_epoch % n == 0:
            _load_train_loader(t)
            t._val_loaders_loaded = False
        first = False
        _run_training_epoch(t, run)


def _fit_done(t: Trainer) -> bool:
    """max_epochs/max_steps reached, or a stop was requested and min_epochs/min_steps allow it."""
    if t.max_epochs != -1 and t.current_epoch >= t.max_epochs:
        return True
    if _max_steps_reached(t):
        return True
    if t.should_stop:
        if _minimum_reached(t):
            return True
        log.info("Trainer was signaled to stop but the required min_epochs=%s or min_steps=%s has not been "
                 "met. Training will continue...", t.min_epochs, t.min_steps or 0)
        t.should_stop = False
    return False


def _max_steps_reached(t: Trainer) -> bool:
    return t.max_steps != -1 and t.global_step >= t.max_steps


def _minimum_reached(t: Trainer, finishing_epoch: bool = False) -> bool:
    """min_epochs and min_steps are met (``finishing_epoch``: counting the running epoch as done)."""
    epochs_done = t.current_epoch + 1 if finishing_epoch else t.current_epoch
    return epochs_done >= (t.min_epochs or 0) and t.global_step >= (t.min_steps or 0)


def _finish_epoch_counters(t: Trainer) -> None:
    progress = t.progress
    progress.current_epoch += 1
    progress.batches_done_in_epoch = 0
    progress.epoch_finished = False
    progress.epoch_schedulers_stepped = False


def _run_training_epoch(t: Trainer, run: FitRun) -> None:
    """One epoch: epoch-start hooks, the batches (with validation where due), epoch-end hooks and schedulers."""
    results = _start_epoch(t, run)
    tbptt = t.lightning_module.truncated_bptt_steps or t.truncated_bptt_steps or 0
    if tbptt:
        check_tbptt_signature(t.lightning_module)
    collect = t._hooks.module_overrides("training_epoch_end") or t._hooks.wants_train_epoch_outputs()
    epoch_outputs: list[tuple[int, Any]] = []
    with profile(t, "run_training_epoch"):
        ran, cut_by_max_steps = _run_batches(t, run, results, tbptt, epoch_outputs if collect else None)
    _end_epoch(t, results, epoch_outputs if collect and ran else None, tbptt, cut_by_max_steps)


def _start_epoch(t: Trainer, run: FitRun) -> ResultCollection:
    results = ResultCollection("train")
    results.callback_metrics, results.progress_bar_tensors = t.callback_metrics, t._progress_bar_tensors
    results.batch_size_fn = lambda: batch_size_of(t)
    t._results = results
    t._in_train_loop = True
    t._hooks.call("on_epoch_start")
    t._hooks.call("on_train_epoch_start")
    # A GradientAccumulationScheduler changes accumulate_grad_batches in on_train_epoch_start.
    run.accumulate = t.accumulate_grad_batches
    run.automatic = t.lightning_module.automatic_optimization
    resume_rng = t._resume_rng
    if t._resume_skip_batches and resume_rng is not None and resume_rng.get("epoch_start") is not None:
        restore_rng_state(resume_rng["epoch_start"])
    t._epoch_start_rng = capture_rng_state()
    t.strategy.before_train_epoch(t, t.progress.current_epoch)  # DistributedSampler.set_epoch; batch-size report
    return results


def _run_batches(t: Trainer, run: FitRun, results: ResultCollection, tbptt: int,
                 epoch_outputs: list[tuple[int, Any]] | None) -> tuple[bool, bool]:
    """The epoch's batches; returns whether any batch ran, and whether max_steps cut the epoch short.

    ``epoch_outputs`` (when training_epoch_end wants them) collects ``(batch_idx, outputs)``.
    """
    n, skip, resume_rng = t.num_training_batches, t._resume_skip_batches, t._resume_rng
    iterator = iter(t.train_dataloader)
    if run.profiling:
        iterator = _timed_fetches(t, iterator)
    stream = _lookahead(iterator) if n == math.inf else None
    batch_idx, ran = 0, False
    while batch_idx < n:
        try:
            batch, is_last = (next(iterator), batch_idx + 1 == n) if stream is None else next(stream)
        except StopIteration:
            break
        if batch_idx < skip:  # resuming mid-epoch: replay the data order, skip the work
            batch_idx += 1
            if batch_idx == skip and resume_rng is not None:
                restore_rng_state(resume_rng["current"])
            continue
        t.batch_idx = batch_idx
        outputs = _run_train_batch(t, run, results, batch, batch_idx, is_last, tbptt)
        if outputs is _SKIP_EPOCH:
            break
        ran = True
        if epoch_outputs is not None and outputs is not None:
            epoch_outputs.append((batch_idx, outputs))
        if _should_validate(t, run, batch_idx, is_last):
            run_validation(t)
        if _max_steps_reached(t):
            t._resume_skip_batches, t._resume_rng = 0, None
            return ran, not is_last
        if t.should_stop and _minimum_reached(t, finishing_epoch=True):
            break  # a stop request ends the epoch after this batch (1.5)
        batch_idx += 1
    t._resume_skip_batches, t._resume_rng = 0, None
    return ran, False


def _end_epoch(t: Trainer, results: ResultCollection, epoch_outputs: list[tuple[int, Any]] | None, tbptt: int,
               cut_by_max_steps: bool) -> None:
    hooks, progress = t._hooks, t.progress
    progress.epoch_finished = True
    if epoch_outputs is not None:  # None: nobody overrides training_epoch_end, or no batch ran (1.5 skips it)
        formatted = format_epoch_outputs(t, epoch_outputs, tbptt)
        hooks.module("training_epoch_end", formatted)
        if hooks.wants_train_epoch_outputs():  # a 1.2/1.3 on_train_epoch_end(outputs) reads them below
            t._train_epoch_outputs = formatted
    elif hooks.wants_train_epoch_outputs():
        t._train_epoch_outputs = []
    publish_epoch_metrics(t, results)
    logged_before = len(results.metrics)  # a fresh collection per epoch: new keys are what the hook logged
    hooks.call("on_train_epoch_end")
    if len(results.metrics) != logged_before:  # 1.5: on_epoch_end already sees what on_train_epoch_end logged
        publish_epoch_metrics(t, results)
    hooks.call("on_epoch_end")
    finish_epoch_logging(t, results)
    save_loggers(t)
    # The trainer steps no scheduler under manual optimization, nor for an epoch that max_steps cut short (1.5).
    if t.lightning_module.automatic_optimization and not cut_by_max_steps:
        step_schedulers(t, "epoch", progress.current_epoch + 1)
    progress.epoch_schedulers_stepped = True
    t._in_train_loop = False
    _finish_epoch_counters(t)


def _timed_fetches(t: Trainer, iterator: Any) -> Any:
    """The loader's batches, each fetch timed as the profiler region "get_train_batch" (only when profiling)."""
    while True:
        with t.profiler.profile("get_train_batch"):
            try:
                batch = next(iterator)
            except StopIteration:
                return
        yield batch


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


def _should_validate(t: Trainer, run: FitRun, batch_idx: int, is_last: bool) -> bool:
    if not run.validation or t.val_check_batch is None:
        return False
    every = t.check_val_every_n_epoch
    if every is not None and (t.current_epoch + 1) % every != 0:
        return False
    if t.val_check_batch == math.inf:
        return is_last
    if every is None:
        return t.progress.total_batch_idx % t.val_check_batch == 0
    return (batch_idx + 1) % t.val_check_batch == 0


def _run_train_batch(t: Trainer, run: FitRun, results: ResultCollection, batch: Any, batch_idx: int,
                     is_last: bool, tbptt: int) -> Any:
    """One batch: transfer, batch-start hooks, the optimization, counters and schedulers, batch-end hooks, logging."""
    if batch is None:  # 1.5 skips such a batch with a warning (the epoch goes on, validation checks included)
        warnings.warn("train_dataloader yielded None; the batch is skipped. If this was on purpose, ignore this "
                      "warning", UserWarning, stacklevel=2)
        return None
    hooks, progress = t._hooks, t.progress
    if t._needs_transfer:
        with profile(t, "training_batch_to_device"):
            batch = transfer_batch(t, batch, 0)
    t._current_batch = batch
    t._current_batch_bs = None
    results.batch_serial += 1
    if "on_batch_start" in hooks.callback_hooks:  # the callback-only batch hooks: no call when none has them
        hooks.callbacks("on_batch_start")
    if hooks.call("on_train_batch_start", batch, batch_idx, 0) == -1:  # the module's answer (1.5)
        return _SKIP_EPOCH
    run.stepped_this_batch = False
    run.stepped_optimizers.clear()
    automatic = run.automatic
    if automatic:
        outputs = timed(run, t, "run_training_batch", automatic_batch, t, run, batch, batch_idx, is_last, tbptt)
    else:
        outputs = timed(run, t, "run_training_batch", manual_batch, t, batch, batch_idx, tbptt)
    progress.batches_done_in_epoch = batch_idx + 1
    progress.total_batch_idx += 1
    if run.stepped_this_batch:
        progress.batches_that_stepped += 1
        if t.lr_schedulers and automatic:  # under manual optimization the user steps the schedulers (1.5)
            step_schedulers(t, "step", progress.batches_that_stepped, run.stepped_optimizers)
    if t.terminate_on_nan:
        check_finite(t, outputs)
    hooks.call("on_train_batch_end", outputs, batch, batch_idx, 0)
    if "on_batch_end" in hooks.callback_hooks:
        hooks.callbacks("on_batch_end")
    if (run.stepped_this_batch and progress.batches_that_stepped % t.log_every_n_steps == 0) or t.should_stop:
        payload = step_metrics_payload(t, results)
        if payload is not None:
            log_to_loggers(t, payload)
    return outputs
