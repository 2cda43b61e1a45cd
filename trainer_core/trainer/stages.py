"""The public stage methods (fit, validate, test, predict) and the set-up/tear-down around every stage."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.precision.plugins import Precision
from trainer_core.trainer import checkpointing
from trainer_core.trainer.eval_loop import run_evaluation_stage
from trainer_core.trainer.fit_loop import run_fit
from trainer_core.trainer.optimizers import LightningOptimizer, parse_optimizers
from trainer_core.trainer.stage_scope import stage_scope

__all__ = ["StageRunner"]

log = logging.getLogger("trainer_core")


class StageRunner:
    """Base of ``Trainer``: what happens around every stage, in the reference hook order."""

    # Set True to load fit/validate/test ckpt_path files with full unpickling (they may run code; trusted files only).
    trust_checkpoint = False

    # --- public stages --------------------------------------------------------------------------------------
    def fit(self, model: Any, train_dataloaders: Any = None, val_dataloaders: Any = None, datamodule: Any = None,
            ckpt_path: str | None = None, train_dataloader: Any = None) -> None:
        """Train ``model``; resume from ``ckpt_path`` (weights, optimizers, schedulers, callbacks, counters)."""
        if train_dataloader is not None:  # the 1.2 spelling
            if train_dataloaders is not None:
                raise MisconfigurationError("pass train_dataloaders or train_dataloader, not both")
            train_dataloaders = train_dataloader
        ckpt_path = ckpt_path or self.resume_from_checkpoint
        train_dataloaders, datamodule = _datamodule_given_as_loaders(train_dataloaders, datamodule)
        self._attach(model, datamodule, train_dataloaders=train_dataloaders, val_dataloaders=val_dataloaders)
        self._run_stage("fit", functools.partial(self._fit_impl, ckpt_path))

    def validate(self, model: Any = None, dataloaders: Any = None, ckpt_path: str | None = None,
                 verbose: bool = True, datamodule: Any = None, val_dataloaders: Any = None) -> list[dict[str, float]]:
        """Run one validation epoch; returns one dict of epoch metrics per dataloader."""
        return self._run_eval("validate", model, dataloaders or val_dataloaders, ckpt_path, verbose, datamodule)

    def test(self, model: Any = None, dataloaders: Any = None, ckpt_path: str | None = None, verbose: bool = True,
             datamodule: Any = None, test_dataloaders: Any = None) -> list[dict[str, float]]:
        """Run one test epoch (``ckpt_path="best"`` loads the best checkpoint of the last fit)."""
        return self._run_eval("test", model, dataloaders or test_dataloaders, ckpt_path, verbose, datamodule)

    def predict(self, model: Any = None, dataloaders: Any = None, datamodule: Any = None,
                return_predictions: bool | None = None, ckpt_path: str | None = None) -> list[Any] | None:
        """Run ``predict_step`` over the predict dataloader(s) and return the predictions.

        ``return_predictions=None`` (the 1.5 default) returns them unless the strategy spawns processes.
        """
        out = self._run_eval("predict", model, dataloaders, ckpt_path, False, datamodule)
        if return_predictions is None:
            return_predictions = not self.strategy.launches_processes
        return out if return_predictions else None

    # --- orchestration --------------------------------------------------------------------------------------
    def _attach(self, model: Any, datamodule: Any, **loaders: Any) -> None:
        from trainer_core.module import LightningModule

        if model is None:
            if self.lightning_module is None:
                raise MisconfigurationError("no model given: pass a LightningModule (or call fit first)")
            model = self.lightning_module
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
        self.lightning_module = model
        object.__setattr__(model, "trainer", self)
        if datamodule is not None:
            self.datamodule = datamodule
            datamodule.trainer = self
        self._given_loaders = loaders

    def _run_stage(self, stage: str, body: Callable[[], Any]) -> Any:
        self.state.stage = stage
        self.state.status = "running"
        self.should_stop = False
        if self.strategy.launches_processes and stage in ("fit", "validate", "test", "predict"):
            # The strategy starts the worker processes; each runs _run_stage_here (body must pickle).
            return self.strategy.launch(self, stage, body)
        return self._run_stage_here(stage, body)

    def _run_stage_here(self, stage: str, body: Callable[[], Any]) -> Any:
        anomaly = torch.autograd.set_detect_anomaly(True) if self.detect_anomaly else nullcontext()
        result = None  # stays None when the stage is interrupted (a graceful stop returns nothing)
        try:
            with stage_scope(self, stage, self._hooks, cleanup=self._end_early), anomaly:
                result = body()
        finally:
            self.state.sanity_checking = False
            self._in_train_loop = self._in_eval_loop = False
        return result

    def _end_early(self, stage: str) -> None:
        """An interrupted or failed stage: loggers learn how it ended, then the stage is torn down."""
        self._finalize_loggers(self.state.status)
        self._teardown(stage)

    def _prepare(self, stage: str) -> None:
        """configure_callbacks -> prepare_data -> setup, in the 1.5 order."""
        module, dm = self.lightning_module, self.datamodule
        # Every rank: module hooks (configure_callbacks below) need the dispatcher to know the module.
        self._hooks.rebuild(self.callbacks, module, self.profiler, datamodule=dm)
        self._merge_module_callbacks()
        if self.local_rank == 0 or not self.prepare_data_per_node:
            if self.is_global_zero or self.prepare_data_per_node:
                self._hooks.datamodule("prepare_data")
                self._hooks.module("prepare_data")
        self.strategy.barrier("prepare_data")
        self.profiler.setup(stage=stage, local_rank=self.local_rank, log_dir=self.log_dir)
        self._hooks.callbacks("on_before_accelerator_backend_setup")
        self.strategy.setup_environment()
        self._sync_logger_versions()
        self._hooks.callbacks("setup", stage=stage)
        self._hooks.datamodule("setup", stage=stage)
        self._hooks.module("setup", stage=stage)
        self._hooks.module("configure_sharded_model")
        self._hooks.callbacks("on_configure_sharded_model")
        module = self._precision.convert_module(module)
        self._model = self.strategy.setup_module(module)
        # Batches skip the transfer hooks entirely on the CPU when nobody customises them (per-step overhead).
        transfer_hooks = ("transfer_batch_to_device", "on_before_batch_transfer", "on_after_batch_transfer")
        self._needs_transfer = (
            self.strategy.root_device.type != "cpu"
            or type(self._precision).convert_input is not Precision.convert_input
            or any(_is_overridden(module, h) for h in transfer_hooks)
            or (dm is not None and any(_dm_overrides(dm, h) for h in transfer_hooks))
        )

    def _sync_logger_versions(self) -> None:
        """Every rank writes into rank 0's version folder (ranks started by torchrun pick versions alone)."""
        if self.world_size == 1 or not self.loggers:
            return
        versions = self.strategy.broadcast([getattr(logger, "version", None) for logger in self.loggers])
        for logger, version in zip(self.loggers, versions):
            if hasattr(logger, "_version"):
                logger._version = version

    def _merge_module_callbacks(self) -> None:
        extra = self._hooks.module("configure_callbacks") if self.lightning_module is not None else None
        if extra:
            from trainer_core.trainer.defaults import order_callbacks

            extra = list(extra) if isinstance(extra, (list, tuple)) else [extra]
            replaced = {type(cb) for cb in extra}
            if replaced & {type(cb) for cb in self.callbacks}:
                log.info("configure_callbacks replaces trainer callbacks of types %s",
                         sorted(t.__name__ for t in replaced))
            kept = [cb for cb in self.callbacks if type(cb) not in replaced]
            self.callbacks = order_callbacks(kept + extra)
        self._hooks.rebuild(self.callbacks, self.lightning_module, self.profiler, datamodule=self.datamodule)

    def _setup_optimizers(self) -> None:
        module = self.lightning_module
        optimizers, schedulers, frequencies = parse_optimizers(self._hooks.module("configure_optimizers"),
                                                               automatic=module.automatic_optimization)
        self.optimizers, self.lr_schedulers, self.optimizer_frequencies = optimizers, schedulers, frequencies
        self._lightning_optimizers = [LightningOptimizer(opt, self, idx) for idx, opt in enumerate(optimizers)]
        if not module.automatic_optimization:
            if self._flags["accumulate_grad_batches"] not in (None, 1):
                raise MisconfigurationError(
                    "accumulate_grad_batches is not supported with manual optimization "
                    "(automatic_optimization=False); accumulate inside training_step instead")
            if self.gradient_clip_val:
                raise MisconfigurationError(
                    "gradient_clip_val is not supported with manual optimization; call "
                    "self.clip_gradients(opt, gradient_clip_val=...) in training_step instead")

    def _fit_impl(self, ckpt_path: str | None) -> None:
        self._prepare("fit")
        checkpoint = checkpointing.load(self, ckpt_path) if ckpt_path else None
        if checkpoint is not None:  # 1.5: on_load_checkpoint and the weights come before configure_optimizers
            checkpointing.restore_weights(self, checkpoint, ckpt_path)
        self._setup_optimizers()
        if checkpoint is not None:
            checkpointing.restore_training_state(self, checkpoint, ckpt_path)
        run_fit(self)
        self._teardown("fit")

    def _run_eval(self, stage: str, model: Any, dataloaders: Any, ckpt_path: str | None, verbose: bool,
                  datamodule: Any) -> Any:
        dataloaders, datamodule = _datamodule_given_as_loaders(dataloaders, datamodule)
        if ckpt_path is None and model is None and stage in ("validate", "test") \
                and self.lightning_module is not None:
            ckpt_path = self._default_eval_checkpoint(stage)
        else:
            ckpt_path = checkpointing.best_or_path(self, ckpt_path, stage)
        self._attach(model, datamodule, dataloaders=dataloaders)
        return self._run_stage(stage, functools.partial(self._eval_impl, stage, ckpt_path, verbose))

    def _default_eval_checkpoint(self, stage: str) -> str | None:
        """1.5's ``ckpt_path="best"`` default for validate/test without a model, lenient where 1.5 raises.

        The best checkpoint of the ModelCheckpoint (without a monitor: its latest save); with no ModelCheckpoint
        or nothing saved, the current weights. The log line says which weights are used.
        """
        callback = self.checkpoint_callback
        path = callback.best_model_path if callback is not None else ""
        if path:
            log.info("%s loads the best checkpoint %s (ckpt_path=\"best\"); pass ckpt_path=None to use the current "
                     "weights", stage, path)
            return path
        reason = "no ModelCheckpoint" if callback is None else "no checkpoint was saved"
        log.info("%s uses the current weights (%s to load with the default ckpt_path=\"best\")", stage, reason)
        return None

    def _eval_impl(self, stage: str, ckpt_path: str | None, verbose: bool) -> Any:
        self._prepare(stage)
        if ckpt_path:
            checkpoint = checkpointing.load(self, ckpt_path)
            checkpointing.restore_weights(self, checkpoint, ckpt_path)
        result = run_evaluation_stage(self, stage, verbose)
        self._teardown(stage)
        return result

    def _finalize_loggers(self, status: str) -> None:
        for logger in self.loggers:
            try:
                logger.finalize(status)
            except Exception as err:  # a failing logger must not hide the run's own error
                log.warning("logger %s failed to finalize: %s", type(logger).__name__, err)

    def _teardown(self, stage: str) -> None:
        module = self.lightning_module
        try:
            self.profiler.describe()
            self._hooks.callbacks("on_profiler_report", stage, self.profiler.report_rows())
        except Exception as err:
            log.warning("profiler report failed: %s", err)
        self._hooks.callbacks("teardown", stage=stage)
        self._hooks.datamodule("teardown", stage=stage)
        if module is not None:
            self._hooks.module("teardown", stage=stage)
        self.profiler.teardown(stage=stage)
        self.strategy.teardown()
        # Drop the DDP/DP wrapper with the stage: a DistributedDataParallel left alive until interpreter exit is
        # destroyed during teardown, where gloo can abort the process after a successful run.
        self._model = None

    def _manual_backward(self, loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        hooks = self._hooks
        hooks.call("on_before_backward", loss)
        self._precision.backward(loss, lambda scaled: hooks.module("backward", scaled, None, None, *args,
                                                                   **kwargs))
        hooks.call("on_after_backward")

    def _manual_optimizer_step(self, optimizer: torch.optim.Optimizer, opt_idx: int, closure: Any,
                               **kwargs: Any) -> Any:
        def wrapped() -> Any:
            result = closure() if closure is not None else None
            self._precision.unscale_gradients(optimizer)
            self._hooks.call("on_before_optimizer_step", optimizer, opt_idx)
            return result

        if closure is None and self._precision.scaler is None:
            wrapped()
            result = optimizer.step(**kwargs)
        else:
            result = self._precision.optimizer_step(optimizer, wrapped)
        self.progress.global_step += 1
        if self._fit_run is not None:
            self._fit_run.stepped_this_batch = True
        return result


def _is_overridden(module: Any, hook: str) -> bool:
    from trainer_core.module import LightningModule

    return getattr(type(module), hook, None) is not getattr(LightningModule, hook, None)


def _dm_overrides(dm: Any, hook: str) -> bool:
    from trainer_core.datamodule import LightningDataModule

    return getattr(type(dm), hook, None) is not getattr(LightningDataModule, hook, None)


def _datamodule_given_as_loaders(loaders: Any, datamodule: Any) -> tuple[Any, Any]:
    """``fit(model, dm)`` / ``test(model, dm)``: a LightningDataModule in the loaders' place is the datamodule."""
    from trainer_core.datamodule import LightningDataModule

    if isinstance(loaders, LightningDataModule):
        if datamodule is not None:
            raise MisconfigurationError("a LightningDataModule was passed both positionally and as datamodule=")
        return None, loaders
    return loaders, datamodule
