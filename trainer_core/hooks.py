"""The one hook dispatcher, and the map of the fit loop.

Every hook goes through :class:`HookDispatcher`: callbacks first (in the order given), then the LightningModule, each
timed by the profiler when one is set. A callback that does not override a hook is never called for it, and a
module hook that is a no-op in the base class is skipped unless overridden, so unused hooks cost nothing per step.

The fit loop, with hook names at their places (Cb = callbacks, M = module; 1.5 order)::

    Trainer(...)                    Cb.on_init_start, Cb.on_init_end
    fit():
      M.prepare_data, M.configure_callbacks, Cb.on_before_accelerator_backend_setup
      Cb.setup("fit"), M.setup("fit"), M.configure_sharded_model, Cb.on_configure_sharded_model
      M.configure_optimizers, Cb/M.on_fit_start, Cb/M.on_pretrain_routine_start, Cb/M.on_pretrain_routine_end
      sanity check:                 Cb.on_sanity_check_start, [validation run], Cb.on_sanity_check_end
      M.on_train_dataloader, M.train_dataloader, Cb/M.on_train_start
      for each epoch:
        Cb/M.on_epoch_start, Cb/M.on_train_epoch_start
        for each batch:
          M.on_before_batch_transfer, M.transfer_batch_to_device, M.on_after_batch_transfer
          Cb.on_batch_start, Cb/M.on_train_batch_start
          closure: M.training_step, M.training_step_end, [window start] Cb/M.on_before_zero_grad,
                   M.optimizer_zero_grad, Cb/M.on_before_backward, M.backward, Cb/M.on_after_backward
          [window end] precision unscale, Cb/M.on_before_optimizer_step, grad-norm tracking (M.log_grad_norm),
                   M.configure_gradient_clipping (when clipping is on or the module overrides it),
                   M.optimizer_step, lr schedulers (interval="step")
          Cb/M.on_train_batch_end, Cb.on_batch_end
          [val check] validation run: M.on_validation_model_eval, Cb/M.on_validation_start,
                   Cb/M.on_epoch_start, Cb/M.on_validation_epoch_start,
                   per batch Cb/M.on_validation_batch_start, M.validation_step, M.validation_step_end,
                   Cb/M.on_validation_batch_end; M.validation_epoch_end, Cb/M.on_validation_epoch_end,
                   Cb/M.on_epoch_end, Cb/M.on_validation_end, M.on_validation_model_train
        M.training_epoch_end, Cb/M.on_train_epoch_end, Cb/M.on_epoch_end, lr schedulers (interval="epoch")
      Cb/M.on_train_end, Cb/M.on_fit_end, Cb.teardown("fit"), M.teardown("fit")
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trainer_core.callback import CALLBACK_HOOKS, Callback
from trainer_core.module import LightningModule

__all__ = ["HookDispatcher", "describe_loop", "profiling_enabled"]

# Module hooks whose base implementation does something (must always run even when not overridden).
_MODULE_HOOKS_WITH_DEFAULTS = frozenset({
    "on_validation_model_eval", "on_validation_model_train", "on_test_model_eval", "on_test_model_train",
    "on_predict_model_eval", "transfer_batch_to_device", "on_before_batch_transfer", "on_after_batch_transfer",
    "optimizer_step", "optimizer_zero_grad", "backward", "configure_gradient_clipping", "clip_gradients",
    "log_grad_norm", "configure_optimizers", "configure_callbacks", "predict_step", "tbptt_split_batch",
})



class HookDispatcher:
    """Calls hooks on callbacks then on the module, skipping what nobody overrides."""

    def __init__(self, trainer: Any) -> None:
        self._trainer = trainer
        self._by_hook: dict[str, list[Callback]] = {}
        self._module: LightningModule | None = None
        self._module_hooks: frozenset[str] = frozenset()
        self._profiler: Any = None

    def rebuild(self, callbacks: Iterable[Callback], module: LightningModule | None, profiler: Any) -> None:
        """Recompute which callbacks override which hook (call after callbacks or the module change)."""
        callbacks = list(callbacks)
        self._by_hook = {
            hook: [cb for cb in callbacks if _overrides(cb, Callback, hook)] for hook in CALLBACK_HOOKS
        }
        self._module = module
        if module is not None:
            overridden = {
                name for name in dir(type(module))
                if not name.startswith("_") and _overrides(module, LightningModule, name)
            }
            self._module_hooks = frozenset(overridden | _MODULE_HOOKS_WITH_DEFAULTS)
        self._profiler = profiler if profiling_enabled(profiler) else None

    def has_callbacks(self, hook: str) -> bool:
        return bool(self._by_hook.get(hook))

    def module_overrides(self, hook: str) -> bool:
        return hook in self._module_hooks

    def callbacks(self, hook: str, *args: Any, **kwargs: Any) -> None:
        callbacks = self._by_hook.get(hook)
        if not callbacks:
            return
        trainer, module = self._trainer, self._module
        prev = module._current_fx_name if module is not None else None
        if module is not None:
            object.__setattr__(module, "_current_fx_name", hook)
        try:
            profiler = self._profiler
            for cb in callbacks:
                if profiler is None:  # the common case: no action name, no context manager
                    getattr(cb, hook)(trainer, module, *args, **kwargs)
                else:
                    with profiler.profile(f"[Callback]{cb.state_key}.{hook}"):
                        getattr(cb, hook)(trainer, module, *args, **kwargs)
        finally:
            if module is not None:
                object.__setattr__(module, "_current_fx_name", prev)

    def module(self, hook: str, *args: Any, **kwargs: Any) -> Any:
        module = self._module
        if module is None or hook not in self._module_hooks:
            return None
        fn = getattr(module, hook, None)
        if fn is None:
            return None
        prev = module._current_fx_name
        object.__setattr__(module, "_current_fx_name", hook)
        try:
            if self._profiler is None:  # the common case: no context manager on the hot path
                return fn(*args, **kwargs)
            with self._profiler.profile(f"[LightningModule]{type(module).__name__}.{hook}"):
                return fn(*args, **kwargs)
        finally:
            object.__setattr__(module, "_current_fx_name", prev)

    def call(self, hook: str, *args: Any, **kwargs: Any) -> Any:
        """Callbacks then the module (the 1.5 order for every paired hook)."""
        self.callbacks(hook, *args, **kwargs)
        return self.module(hook, *args, **kwargs)

    def describe(self) -> str:
        """Which callbacks sit on which hook (handy when debugging a callback set-up)."""
        lines = []
        for hook, callbacks in self._by_hook.items():
            if callbacks:
                lines.append(f"{hook}: " + ", ".join(type(cb).__name__ for cb in callbacks))
        return "\n".join(lines) or "(no callback overrides any hook)"


def profiling_enabled(profiler: Any) -> bool:
    """Whether ``profiler`` records anything (the one place that asks; PassThroughProfiler does not)."""
    return profiler is not None and not getattr(profiler, "is_passthrough", False)


def _overrides(obj: Any, base: type, name: str) -> bool:
    impl = getattr(type(obj), name, None)
    base_impl = getattr(base, name, None)
    if impl is None:
        return False
    if base_impl is None:
        return callable(impl)
    return impl is not base_impl


def describe_loop() -> str:
    """The fit loop map (this module's docstring)."""
    return __doc__ or ""
