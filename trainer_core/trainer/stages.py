"""Everything around a stage (fit, validate, test, predict): attach, set up, run, tear down, in the 1.5 order.

Functions of a typed :class:`~trainer_core.trainer.trainer.Trainer`; its public methods call them. Read
:func:`run_stage` (how a stage opens and closes) and :func:`prepare` (the set-up hooks) first; the loops themselves
are in ``fit_loop.py`` and ``eval_loop.py``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.precision.plugins import Precision
from trainer_core.trainer import checkpointing
from trainer_core.trainer.eval_loop import run_evaluation_stage
from trainer_core.trainer.fit_loop import run_fit
from trainer_core.trainer.loop_config import warn_unpaired_validation
from trainer_core.trainer.optimizers import LightningOptimizer, parse_optimizers
from trainer_core.trainer.stage_scope import stage_scope
from trainer_core.trainer.transfer import dm_overrides

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["attach", "run_stage", "run_stage_here", "fit_impl", "run_eval", "prepare", "merge_module_callbacks",
           "finalize_loggers", "teardown", "manual_backward", "manual_optimizer_step"]

log = logging.getLogger("trainer_core")


def attach(trainer: Trainer, model: Any, datamodule: Any, **loaders: Any) -> None:
    from trainer_core.module import LightningModule

    if model is None:
        if trainer.lightning_module is None:
            raise MisconfigurationError("no model given: pass a LightningModule (or call fit first)")
        model = trainer.lightning_module
    if not isinstance(model, LightningModule):
        raise MisconfigurationError(
            f"expected a trainer_core.LightningModule, got {type(model).__name__}. Subclass LightningModule "
            "(`import trainer_core as pl; class Model(pl.LightningModule): ...`)")
    from trainer_core.datamodule import LightningDataModule

    # 1.x: a datamodule in the loaders' place (`trainer.fit(model, dm)`) is the datamodule.
    for name, value in loaders.items():
        if isinstance(value, LightningDataModule) and datamodule is None:
            datamodule, loaders[name] = value, None
    if datamodule is not None and any(v is not None for v in loaders.values()):
        raise MisconfigurationError("pass dataloaders or a datamodule, not both")
    trainer.lightning_module = model
    object.__setattr__(model, "trainer", trainer)
    if datamodule is not None:
        trainer.datamodule = datamodule
        datamodule.trainer = trainer
    trainer._given_loaders = loaders


def run_stage(trainer: Trainer, stage: str, body: Callable[[], Any]) -> Any:
    trainer.state.stage = stage
    trainer.state.status = "running"
    trainer.should_stop = False
    # 1.5 starts every fit/validate/test/predict with empty metrics: after fit, trainer.test() leaves only what the
    # test logged in callback_metrics, logged_metrics and progress_bar_metrics.
    trainer.callback_metrics.clear()
    trainer.logged_metrics.clear()
    trainer._progress_bar_tensors.clear()
    if trainer.strategy.launches_processes and stage in ("fit", "validate", "test", "predict"):
        # The strategy starts the worker processes; each runs trainer._run_stage_here (body must pickle).
        return trainer.strategy.launch(trainer, stage, body)
    return run_stage_here(trainer, stage, body)


def run_stage_here(trainer: Trainer, stage: str, body: Callable[[], Any]) -> Any:
    anomaly = torch.autograd.set_detect_anomaly(True) if trainer.detect_anomaly else nullcontext()
    result = None  # stays None when the stage is interrupted (a graceful stop returns nothing)
    try:
        with stage_scope(trainer, stage, trainer._hooks, cleanup=functools.partial(end_early, trainer)), anomaly:
            result = body()
    finally:
        trainer.state.sanity_checking = False
        trainer._in_train_loop = trainer._in_eval_loop = False
    return result


def end_early(trainer: Trainer, stage: str) -> None:
    """An interrupted or failed stage: loggers learn how it ended, then the stage is torn down."""
    finalize_loggers(trainer, trainer.state.status)
    teardown(trainer, stage)


def prepare(trainer: Trainer, stage: str) -> None:
    """configure_callbacks -> prepare_data -> setup, in the 1.5 order."""
    module, dm = trainer.lightning_module, trainer.datamodule
    # Every rank: module hooks (configure_callbacks below) need the dispatcher to know the module.
    trainer._hooks.rebuild(trainer.callbacks, module, trainer.profiler)
    trainer._merge_module_callbacks()
    if trainer.local_rank == 0 or not trainer.prepare_data_per_node:
        if trainer.is_global_zero or trainer.prepare_data_per_node:
            trainer._hooks.datamodule("prepare_data")
            trainer._hooks.module("prepare_data")
    trainer.strategy.barrier("prepare_data")
    trainer.profiler.setup(stage=stage, local_rank=trainer.local_rank, log_dir=trainer.log_dir)
    trainer._hooks.callbacks("on_before_accelerator_backend_setup")
    trainer.strategy.setup_environment()
    sync_logger_versions(trainer)
    trainer._hooks.callbacks("setup", stage=stage)
    trainer._hooks.datamodule("setup", stage=stage)
    trainer._hooks.module("setup", stage=stage)
    trainer._hooks.module("configure_sharded_model")
    trainer._hooks.callbacks("on_configure_sharded_model")
    module = trainer._precision.convert_module(module)
    trainer._model = trainer.strategy.setup_module(module)
    # Batches skip the transfer hooks entirely on the CPU when nobody customises them (per-step overhead).
    transfer_hooks = ("transfer_batch_to_device", "on_before_batch_transfer", "on_after_batch_transfer")
    trainer._needs_transfer = (
        trainer.strategy.root_device.type != "cpu"
        or type(trainer._precision).convert_input is not Precision.convert_input
        or any(_is_overridden(module, h) for h in transfer_hooks)
        or (dm is not None and any(dm_overrides(dm, h) for h in transfer_hooks))
    )


def sync_logger_versions(trainer: Trainer) -> None:
    """Every rank writes into rank 0's version folder (ranks started by torchrun pick versions alone)."""
    if trainer.world_size == 1 or not trainer.loggers:
        return
    versions = trainer.strategy.broadcast([getattr(logger, "version", None) for logger in trainer.loggers])
    for logger, version in zip(trainer.loggers, versions):
        if hasattr(logger, "_version"):
            logger._version = version


def merge_module_callbacks(trainer: Trainer) -> None:
    extra = trainer._hooks.module("configure_callbacks") if trainer.lightning_module is not None else None
    if extra:
        from trainer_core.trainer.defaults import order_callbacks

        extra = list(extra) if isinstance(extra, (list, tuple)) else [extra]
        replaced = {type(cb) for cb in extra}
        if replaced & {type(cb) for cb in trainer.callbacks}:
            log.info("configure_callbacks replaces trainer callbacks of types %s",
                     sorted(t.__name__ for t in replaced))
        kept = [cb for cb in trainer.callbacks if type(cb) not in replaced]
        trainer.callbacks = order_callbacks(kept + extra)
    trainer._hooks.rebuild(trainer.callbacks, trainer.lightning_module, trainer.profiler)


def setup_optimizers(trainer: Trainer) -> None:
    module = trainer.lightning_module
    optimizers, schedulers, frequencies = parse_optimizers(trainer._hooks.module("configure_optimizers"),
                                                           automatic=module.automatic_optimization)
    trainer.optimizers, trainer.lr_schedulers, trainer.optimizer_frequencies = optimizers, schedulers, frequencies
    trainer._lightning_optimizers = [LightningOptimizer(opt, trainer, idx) for idx, opt in enumerate(optimizers)]
    if not module.automatic_optimization:
        if trainer._flags["accumulate_grad_batches"] not in (None, 1):
            raise MisconfigurationError(
                "accumulate_grad_batches is not supported with manual optimization "
                "(automatic_optimization=False); accumulate inside training_step instead")
        if trainer.gradient_clip_val:
            raise MisconfigurationError(
                "gradient_clip_val is not supported with manual optimization; call "
                "self.clip_gradients(opt, gradient_clip_val=...) in training_step instead")


def fit_impl(trainer: Trainer, ckpt_path: str | None) -> None:
    prepare(trainer, "fit")
    warn_unpaired_validation(trainer)
    # The resume order (1.5), in this one place: the module's on_load_checkpoint and the weights before
    # configure_optimizers; callback states and loop counters before on_fit_start; optimizer, scheduler and scaler
    # states after it, once a callback (BaseFinetuning) has re-added the param groups the saved state expects.
    checkpoint = checkpointing.load(trainer, ckpt_path) if ckpt_path else None
    if checkpoint is not None:
        checkpointing.restore_weights(trainer, checkpoint, ckpt_path)
    setup_optimizers(trainer)
    if checkpoint is not None:
        checkpointing.restore_training_state(trainer, checkpoint, ckpt_path)
    trainer._hooks.call("on_fit_start")
    if checkpoint is not None:
        checkpointing.restore_optimization_state(trainer, checkpoint, ckpt_path)
    run_fit(trainer)
    teardown(trainer, "fit")


def run_eval(trainer: Trainer, stage: str, model: Any, dataloaders: Any, ckpt_path: str | None, verbose: bool,
             datamodule: Any) -> Any:
    if ckpt_path is None and model is None and stage in ("validate", "test") \
            and trainer.lightning_module is not None:
        ckpt_path = default_eval_checkpoint(trainer, stage)
    else:
        ckpt_path = checkpointing.best_or_path(trainer, ckpt_path, stage)
    attach(trainer, model, datamodule, dataloaders=dataloaders)
    return run_stage(trainer, stage, functools.partial(eval_impl, trainer, stage, ckpt_path, verbose))


def default_eval_checkpoint(trainer: Trainer, stage: str) -> str | None:
    """1.5's ``ckpt_path="best"`` default for validate/test without a model, lenient where 1.5 raises.

    The best checkpoint of the ModelCheckpoint (without a monitor: its latest save); with no ModelCheckpoint
    or nothing saved, the current weights. The log line says which weights are used.
    """
    callback = trainer.checkpoint_callback
    path = callback.best_model_path if callback is not None else ""
    if path:
        # Without a model, ckpt_path=None *is* "best" (1.5): the way to the current weights is passing the model.
        log.info("%s loads the best checkpoint %s (ckpt_path=\"best\"); pass the model (trainer.%s(model)) to use "
                 "the current weights", stage, path, stage)
        return path
    reason = "no ModelCheckpoint" if callback is None else "no checkpoint was saved"
    log.info("%s uses the current weights (%s to load with the default ckpt_path=\"best\")", stage, reason)
    return None


def eval_impl(trainer: Trainer, stage: str, ckpt_path: str | None, verbose: bool) -> Any:
    prepare(trainer, stage)
    if ckpt_path:
        checkpoint = checkpointing.load(trainer, ckpt_path)
        checkpointing.restore_weights(trainer, checkpoint, ckpt_path)
    result = run_evaluation_stage(trainer, stage, verbose)
    teardown(trainer, stage)
    return result


def finalize_loggers(trainer: Trainer, status: str) -> None:
    for logger in trainer.loggers:
        try:
            logger.finalize(status)
        except Exception as err:  # a failing logger must not hide the run's own error
            log.warning("logger %s failed to finalize: %s", type(logger).__name__, err)


def teardown(trainer: Trainer, stage: str) -> None:
    module = trainer.lightning_module
    try:
        trainer.profiler.describe()
        trainer._hooks.callbacks("on_profiler_report", stage, trainer.profiler.report_rows())
    except Exception as err:
        log.warning("profiler report failed: %s", err)
    trainer._hooks.callbacks("teardown", stage=stage)
    trainer._hooks.datamodule("teardown", stage=stage)
    if module is not None:
        trainer._hooks.module("teardown", stage=stage)
    trainer.profiler.teardown(stage=stage)
    trainer.strategy.teardown()
    # Drop the DDP/DP wrapper with the stage: a DistributedDataParallel left alive until interpreter exit is
    # destroyed during teardown, where gloo can abort the process after a successful run.
    trainer._model = None


def manual_backward(trainer: Trainer, loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
    hooks = trainer._hooks
    hooks.call("on_before_backward", loss)
    trainer._precision.backward(loss, lambda scaled: hooks.module("backward", scaled, None, None, *args,
                                                               **kwargs))
    hooks.call("on_after_backward")


def manual_optimizer_step(trainer: Trainer, optimizer: torch.optim.Optimizer, opt_idx: int, closure: Any,
                          **kwargs: Any) -> Any:
    def wrapped() -> Any:
        result = closure() if closure is not None else None
        trainer._precision.unscale_gradients(optimizer)
        trainer._hooks.call("on_before_optimizer_step", optimizer, opt_idx)
        return result

    if closure is None and trainer._precision.scaler is None:
        wrapped()
        result = optimizer.step(**kwargs)
    else:
        result = trainer._precision.optimizer_step(optimizer, wrapped)
    trainer.progress.global_step += 1
    if trainer._fit_run is not None:
        trainer._fit_run.stepped_this_batch = True
    return result


def _is_overridden(module: Any, hook: str) -> bool:
    from trainer_core.module import LightningModule

    # A function assigned on the instance counts too (1.x scripts and tools patch hooks that way).
    return hook in vars(module) or getattr(type(module), hook, None) is not getattr(LightningModule, hook, None)
