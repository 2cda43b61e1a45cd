"""LightningModule: a torch ``nn.Module`` that also says how it is trained."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from trainer_core.data_hooks import BatchTransferHooks
from trainer_core.exceptions import MisconfigurationError
from trainer_core.hparams import HyperparametersMixin
from trainer_core.step_hooks import StepHooks
from trainer_core.utilities import export
from trainer_core.utilities.rank_zero import rank_zero_deprecation

__all__ = ["LightningModule"]

log = logging.getLogger(__name__)


class LightningModule(HyperparametersMixin, StepHooks, BatchTransferHooks, nn.Module):
    """Subclass this, define the layers in ``__init__`` and the steps, and hand it to a ``Trainer``.

    Examples:
        >>> import torch
        >>> class Regressor(LightningModule):
        ...     def __init__(self, lr: float = 0.1):
        ...         super().__init__()
        ...         self.save_hyperparameters()
        ...         self.layer = torch.nn.Linear(4, 1)
        ...     def training_step(self, batch, batch_idx):
        ...         x, y = batch
        ...         loss = torch.nn.functional.mse_loss(self.layer(x), y)
        ...         self.log("train_loss", loss)
        ...         return loss
        ...     def configure_optimizers(self):
        ...         return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
        >>> Regressor().hparams.lr
        0.1
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Plain attributes (not submodules): set through object.__setattr__ to keep nn.Module bookkeeping out.
        object.__setattr__(self, "trainer", None)
        object.__setattr__(self, "_current_fx_name", None)
        object.__setattr__(self, "_automatic_optimization", True)
        object.__setattr__(self, "_truncated_bptt_steps", 0)
        object.__setattr__(self, "_example_input_array", None)
        object.__setattr__(self, "precision", 32)

    # --- properties read by user code ---------------------------------------------------------------------
    @property
    def example_input_array(self) -> Any:
        return self._example_input_array

    @example_input_array.setter
    def example_input_array(self, value: Any) -> None:
        object.__setattr__(self, "_example_input_array", value)

    @property
    def device(self) -> torch.device:
        """The device of the module's parameters (so user code can create tensors with ``device=self.device``)."""
        for tensor in self.parameters():
            return tensor.device
        for tensor in self.buffers():
            return tensor.device
        trainer = self.trainer
        if trainer is not None:
            return trainer.strategy.root_device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        for tensor in self.parameters():
            return tensor.dtype
        return torch.get_default_dtype()

    @property
    def on_gpu(self) -> bool:
        return self.device.type == "cuda"

    @property
    def current_epoch(self) -> int:
        return self.trainer.current_epoch if self.trainer is not None else 0

    @property
    def global_step(self) -> int:
        return self.trainer.global_step if self.trainer is not None else 0

    @property
    def global_rank(self) -> int:
        return self.trainer.global_rank if self.trainer is not None else 0

    @property
    def local_rank(self) -> int:
        return self.trainer.local_rank if self.trainer is not None else 0

    @property
    def logger(self) -> Any:
        return self.trainer.logger if self.trainer is not None else None

    @property
    def loggers(self) -> list[Any]:
        return self.trainer.loggers if self.trainer is not None else []

    @property
    def automatic_optimization(self) -> bool:
        return self._automatic_optimization

    @automatic_optimization.setter
    def automatic_optimization(self, value: bool) -> None:
        object.__setattr__(self, "_automatic_optimization", bool(value))

    @property
    def truncated_bptt_steps(self) -> int:
        """Split length for truncated back-propagation through time (0: off)."""
        return self._truncated_bptt_steps

    @truncated_bptt_steps.setter
    def truncated_bptt_steps(self, value: int) -> None:
        object.__setattr__(self, "_truncated_bptt_steps", int(value or 0))

    # --- logging --------------------------------------------------------------------------------------------
    def log(self, name: str, value: Any, prog_bar: bool = False, logger: bool = True, on_step: bool | None = None,
            on_epoch: bool | None = None, reduce_fx: str | Any = "mean", enable_graph: bool = False,
            sync_dist: bool = False, sync_dist_group: Any = None, add_dataloader_idx: bool = True,
            batch_size: int | None = None, metric_attribute: str | None = None,
            rank_zero_only: bool | None = None) -> None:
        """Record a metric for the progress bar, the loggers and callbacks (Lightning 1.5's ``self.log``).

        ``value`` is a number, a scalar tensor, a torchmetrics ``Metric``/``MetricCollection`` (``compute()`` at
        epoch end, ``reset()`` after; ``on_step`` logs what the last ``metric(...)`` call returned), or a flat dict
        of numbers/tensors kept together under ``name`` (loggers that take flat keys see ``name/key``).
        """
        trainer = self.trainer
        if trainer is None:
            log.warning("self.log(%r) was called but this module is not attached to a Trainer; ignored", name)
            return
        # Only a multi-process run reduces step values; a single process skips the lookup entirely.
        sync_fn = trainer.strategy.reduce if sync_dist and trainer.world_size > 1 else None
        trainer._results.log(
            self._current_fx_name, name, value, prog_bar=prog_bar, logger=logger, on_step=on_step,
            on_epoch=on_epoch, reduce_fx=reduce_fx, enable_graph=enable_graph, sync_dist=sync_dist,
            add_dataloader_idx=add_dataloader_idx, batch_size=batch_size, sync_fn=sync_fn,
        )

    def log_dict(self, dictionary: Mapping[str, Any] | Any, prog_bar: bool = False, logger: bool = True,
                 on_step: bool | None = None, on_epoch: bool | None = None, reduce_fx: str | Any = "mean",
                 enable_graph: bool = False, sync_dist: bool = False, sync_dist_group: Any = None,
                 add_dataloader_idx: bool = True, batch_size: int | None = None,
                 rank_zero_only: bool | None = None) -> None:
        """``self.log`` for every item of a flat dict, or for every member of a torchmetrics MetricCollection."""
        from trainer_core.trainer.metric_objects import is_metric_collection

        if is_metric_collection(dictionary):
            trainer = self.trainer
            if trainer is None:
                log.warning("self.log_dict(...) was called but this module is not attached to a Trainer; ignored")
                return
            # One entry for the whole collection: compute() runs once for all members (shared compute groups).
            trainer._results.log(
                self._current_fx_name, f"{type(dictionary).__name__}@{id(dictionary):x}", dictionary,
                prog_bar=prog_bar, logger=logger, on_step=on_step, on_epoch=on_epoch, reduce_fx=reduce_fx,
                enable_graph=enable_graph, sync_dist=sync_dist, add_dataloader_idx=add_dataloader_idx,
                batch_size=batch_size, spread=True,
            )
            return
        for name, value in dictionary.items():
            if isinstance(value, Mapping):
                raise MisconfigurationError(f"log_dict got a nested dict under {name!r}; flatten it first")
            self.log(name, value, prog_bar=prog_bar, logger=logger, on_step=on_step, on_epoch=on_epoch,
                     reduce_fx=reduce_fx, enable_graph=enable_graph, sync_dist=sync_dist,
                     add_dataloader_idx=add_dataloader_idx, batch_size=batch_size)

    def log_grad_norm(self, grad_norm_dict: dict[str, torch.Tensor]) -> None:
        """Log the norms computed by ``track_grad_norm`` (override to change how)."""
        self.log_dict(grad_norm_dict, on_step=True, on_epoch=True, prog_bar=False, logger=True)

    def print(self, *args: Any, **kwargs: Any) -> None:
        """``print`` on global rank 0 only."""
        if self.trainer is None or self.trainer.is_global_zero:
            print(*args, **kwargs)

    def all_gather(self, data: Any, group: Any = None, sync_grads: bool = False) -> Any:
        """Tensors (or a collection of them) from every process, stacked on a new first dimension (1.x).

        Python numbers become tensors first (1.5); in one process tensors come back unchanged. ``sync_grads=True``
        lets gradients flow through the gather.
        """
        return export.all_gather(self.trainer, data, group=group, sync_grads=sync_grads, device=self.device)

    def to_torchscript(self, file_path: Any = None, method: str = "script", example_inputs: Any = None,
                       **kwargs: Any) -> Any:
        """The module as TorchScript (``method="script"`` or ``"trace"``), saved to ``file_path`` when given."""
        return export.to_torchscript(self, file_path, method=method, example_inputs=example_inputs, **kwargs)

    def to_onnx(self, file_path: Any, input_sample: Any = None, **kwargs: Any) -> None:
        """Export to ONNX (needs the optional ``onnx`` package); the input defaults to ``example_input_array``."""
        export.to_onnx(self, file_path, input_sample=input_sample, **kwargs)

    # --- steps (override) -------------------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return super().forward(*args, **kwargs)

    def training_step(self, *args: Any, **kwargs: Any) -> Any:
        raise MisconfigurationError(
            f"{type(self).__name__} has no training_step(); define `def training_step(self, batch, batch_idx)` "
            "returning the loss to train it"
        )

    def predict_step(self, batch: Any, batch_idx: int, dataloader_idx: int | None = None) -> Any:
        if isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], torch.Tensor):
            return self(batch[0])
        return self(batch)

    def configure_optimizers(self) -> Any:
        raise MisconfigurationError(
            f"{type(self).__name__} has no configure_optimizers(); return an optimizer such as "
            "`torch.optim.Adam(self.parameters(), lr=1e-3)` from it"
        )

    def configure_callbacks(self) -> Sequence[Any] | Any:
        return []

    # --- optimization (override to customise) ---------------------------------------------------------------
    def optimizers(self, use_pl_optimizer: bool = True) -> Any:
        """The optimizer(s) from ``configure_optimizers``, wrapped for manual optimization."""
        trainer = self._require_trainer("optimizers()")
        opts = trainer._lightning_optimizers if use_pl_optimizer else trainer.optimizers
        if len(opts) == 1:
            return opts[0]
        return list(opts)

    def lr_schedulers(self) -> Any:
        trainer = self._require_trainer("lr_schedulers()")
        scheds = [config["scheduler"] for config in trainer.lr_schedulers]
        if not scheds:
            return None
        return scheds[0] if len(scheds) == 1 else scheds

    def manual_backward(self, loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        """Backward for manual optimization: scales under AMP and fires the backward hooks.

        1.2/1.3 took the optimizer as the second argument (``manual_backward(loss, opt)``); 1.4 dropped it. Such a
        call still works: the optimizer is left out with a deprecation warning instead of reaching
        ``loss.backward`` as its ``gradient`` (a TypeError there).
        """
        trainer = self._require_trainer("manual_backward()")
        if args and _is_optimizer(args[0]):
            rank_zero_deprecation("manual_backward(loss, optimizer) is the 1.3 signature; the optimizer is not "
                                  "used and is ignored: call self.manual_backward(loss)", stacklevel=2)
            args = args[1:]
        trainer._manual_backward(loss, *args, **kwargs)

    def backward(self, loss: torch.Tensor, optimizer: Any, optimizer_idx: int | None, *args: Any,
                 **kwargs: Any) -> None:
        loss.backward(*args, **kwargs)

    def toggle_optimizer(self, optimizer: Any, optimizer_idx: int = 0) -> None:
        """Freeze the parameters that only other optimizers own (multiple optimizers)."""
        state: dict[nn.Parameter, bool] = {}
        own = {id(p) for group in optimizer.param_groups for p in group["params"]}
        for opt in self.trainer.optimizers:
            for group in opt.param_groups:
                for param in group["params"]:
                    if id(param) in own or param in state:
                        continue
                    state[param] = param.requires_grad
                    param.requires_grad = False
        object.__setattr__(self, "_param_requires_grad_state", state)

    def untoggle_optimizer(self, optimizer_idx: int = 0) -> None:
        for param, requires_grad in getattr(self, "_param_requires_grad_state", {}).items():
            param.requires_grad = requires_grad
        object.__setattr__(self, "_param_requires_grad_state", {})

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_idx: int = 0,
                       optimizer_closure: Any = None, on_tpu: bool = False, using_native_amp: bool = False,
                       using_lbfgs: bool = False) -> None:
        optimizer.step(closure=optimizer_closure)

    def optimizer_zero_grad(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_idx: int = 0) -> None:
        optimizer.zero_grad(set_to_none=True)

    def configure_gradient_clipping(self, optimizer: Any, optimizer_idx: int, gradient_clip_val: float | None = None,
                                    gradient_clip_algorithm: str | None = None) -> None:
        self.clip_gradients(optimizer, gradient_clip_val=gradient_clip_val,
                            gradient_clip_algorithm=gradient_clip_algorithm)

    def clip_gradients(self, optimizer: Any, gradient_clip_val: float | None = None,
                       gradient_clip_algorithm: str | None = None) -> None:
        """Clip the gradients of the parameters ``optimizer`` owns (they are already unscaled under AMP)."""
        if not gradient_clip_val or gradient_clip_val <= 0:
            return
        params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not params:
            return
        if (gradient_clip_algorithm or "norm") == "value":
            torch.nn.utils.clip_grad_value_(params, gradient_clip_val)
        else:
            torch.nn.utils.clip_grad_norm_(params, gradient_clip_val)

    def tbptt_split_batch(self, batch: Any, split_size: int) -> list[Any]:
        """Split a batch along dim 1 (time) into chunks of ``split_size`` (the 1.x default splitter)."""
        from trainer_core.trainer.tbptt import split_batch

        return split_batch(batch, split_size)

    # --- hooks (no-ops; override what you need) --------------------------------------------------------------
    def on_fit_start(self) -> None: ...
    def on_fit_end(self) -> None: ...
    def on_train_start(self) -> None: ...
    def on_train_end(self) -> None: ...
    def on_validation_start(self) -> None: ...
    def on_validation_end(self) -> None: ...
    def on_test_start(self) -> None: ...
    def on_test_end(self) -> None: ...
    def on_predict_start(self) -> None: ...
    def on_predict_end(self) -> None: ...
    def on_pretrain_routine_start(self) -> None: ...
    def on_pretrain_routine_end(self) -> None: ...
    def on_train_batch_start(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> int | None: ...
    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None: ...
    def on_validation_batch_start(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None: ...
    def on_validation_batch_end(self, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None: ...
    def on_test_batch_start(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None: ...
    def on_test_batch_end(self, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None: ...
    def on_predict_batch_start(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None: ...
    def on_predict_batch_end(self, outputs: Any, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None: ...
    def on_validation_model_eval(self) -> None:
        self.eval()

    def on_validation_model_train(self) -> None:
        self.train()

    def on_test_model_eval(self) -> None:
        self.eval()

    def on_test_model_train(self) -> None:
        self.train()

    def on_predict_model_eval(self) -> None:
        self.eval()

    def on_epoch_start(self) -> None: ...
    def on_epoch_end(self) -> None: ...
    def on_train_epoch_start(self) -> None: ...
    def on_train_epoch_end(self) -> None: ...
    def on_validation_epoch_start(self) -> None: ...
    def on_validation_epoch_end(self) -> None: ...
    def on_test_epoch_start(self) -> None: ...
    def on_test_epoch_end(self) -> None: ...
    def on_predict_epoch_start(self) -> None: ...
    def on_predict_epoch_end(self, results: list[Any]) -> None: ...
    def on_before_zero_grad(self, optimizer: Any) -> None: ...
    def on_before_backward(self, loss: torch.Tensor) -> None: ...
    def on_after_backward(self) -> None: ...
    def on_before_optimizer_step(self, optimizer: Any, optimizer_idx: int) -> None: ...
    def on_post_move_to_device(self) -> None: ...
    def configure_sharded_model(self) -> None: ...

    # DataHooks
    def prepare_data(self) -> None: ...
    def setup(self, stage: str | None = None) -> None: ...
    def teardown(self, stage: str | None = None) -> None: ...
    def on_train_dataloader(self) -> None: ...
    def on_val_dataloader(self) -> None: ...
    def on_test_dataloader(self) -> None: ...
    def on_predict_dataloader(self) -> None: ...

    # transfer_batch_to_device, on_before_batch_transfer, on_after_batch_transfer: from BatchTransferHooks

    # CheckpointHooks
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None: ...
    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None: ...

    # --- utilities ------------------------------------------------------------------------------------------
    def freeze(self) -> None:
        for param in self.parameters():
            param.requires_grad = False
        self.eval()

    def unfreeze(self) -> None:
        for param in self.parameters():
            param.requires_grad = True
        self.train()

    def summarize(self, mode: str | None = "top", max_depth: int | None = None) -> Any:
        from trainer_core.utilities.model_summary import summarize

        depth = max_depth if max_depth is not None else (-1 if mode == "full" else 1)
        return summarize(self, max_depth=depth)

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: str, map_location: Any = None, strict: bool = True,
                             trust_checkpoint: bool = False, **kwargs: Any) -> LightningModule:
        """Build the module from the hyper-parameters stored in a checkpoint and load its weights."""
        from trainer_core.trainer.checkpoint_io import module_from_checkpoint

        return module_from_checkpoint(cls, checkpoint_path, map_location=map_location, strict=strict,
                                      trust=trust_checkpoint, overrides=kwargs)

    def _require_trainer(self, what: str) -> Any:
        if self.trainer is None:
            raise MisconfigurationError(f"{what} needs the module to be attached to a Trainer (call trainer.fit)")
        return self.trainer


def _is_optimizer(obj: Any) -> bool:
    """A torch optimizer or the engine's wrapper of one (``self.optimizers()`` returns the wrapper)."""
    return isinstance(obj, torch.optim.Optimizer) or isinstance(getattr(obj, "optimizer", None), torch.optim.Optimizer)
