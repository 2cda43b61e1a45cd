"""The one hook dispatcher, and the map of the fit loop.

Every hook goes through :class:`HookDispatcher`: callbacks first (in the order given), then the LightningModule, each
timed by the profiler when one is set. A callback that does not override a hook is never called for it, and a
module hook that is a no-op in the base class is skipped unless overridden, so unused hooks cost nothing per step.

The fit loop, with hook names at their places (Cb = callbacks, M = module; 1.5 order)::

    Trainer(...)                    Cb.on_init_start, Cb.on_init_end
    fit():
      M.configure_callbacks, M.prepare_data, Cb.on_before_accelerator_backend_setup
      Cb.setup("fit"), M.setup("fit"), M.configure_sharded_model, Cb.on_configure_sharded_model
      [resume] M.on_load_checkpoint (+ weights), M.configure_optimizers, [resume] Cb.on_load_checkpoint
      (+ loop counters), Cb/M.on_fit_start, [resume] optimizer, scheduler and scaler states,
      Cb/M.on_pretrain_routine_start, Cb/M.on_pretrain_routine_end
      sanity check:                 Cb.on_sanity_check_start, [validation run], Cb.on_sanity_check_end
      M.on_train_dataloader, M.train_dataloader, Cb/M.on_train_start
      for each epoch:
        Cb/M.on_epoch_start, Cb/M.on_train_epoch_start
        for each batch:
          M.on_before_batch_transfer, M.transfer_batch_to_device, M.on_after_batch_transfer
          Cb.on_batch_start, Cb/M.on_train_batch_start
          [window end] M.optimizer_step(closure) -> optimizer.step(closure) runs the closure inside:
          closure: M.training_step, M.training_step_end, [window start] Cb/M.on_before_zero_grad,
                   M.optimizer_zero_grad, Cb/M.on_before_backward, M.backward, Cb/M.on_after_backward,
                   [window end] precision unscale, Cb/M.on_before_optimizer_step, grad-norm tracking
                   (M.log_grad_norm), M.configure_gradient_clipping (when clipping is on or overridden)
          (while accumulating the closure runs without optimizer_step), lr schedulers (interval="step")
          Cb/M.on_train_batch_end, Cb.on_batch_end
          [val check] validation run: M.on_validation_model_eval, model.zero_grad(), Cb/M.on_validation_start,
                   Cb/M.on_epoch_start, Cb/M.on_validation_epoch_start,
                   per batch Cb/M.on_validation_batch_start, M.validation_step, M.validation_step_end,
                   Cb/M.on_validation_batch_end; M.validation_epoch_end, Cb/M.on_validation_epoch_end,
                   Cb/M.on_epoch_end, Cb/M.on_validation_end, M.on_validation_model_train
        M.training_epoch_end, Cb/M.on_train_epoch_end, Cb/M.on_epoch_end, lr schedulers (interval="epoch")
      Cb/M.on_train_end, Cb/M.on_fit_end, Cb.teardown("fit"), M.teardown("fit")
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from trainer_core.callback import CALLBACK_HOOKS, Callback
from trainer_core.module import LightningModule
from trainer_core.utilities.rank_zero import rank_zero_deprecation

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["HookDispatcher", "describe_loop", "profiling_enabled"]

# Module hooks whose base implementation does something (must always run even when not overridden).
_MODULE_HOOKS_WITH_DEFAULTS = frozenset({
    "on_validation_model_eval", "on_validation_model_train", "on_test_model_eval", "on_test_model_train",
    "on_predict_model_eval", "transfer_batch_to_device", "on_before_batch_transfer", "on_after_batch_transfer",
    "optimizer_step", "optimizer_zero_grad", "backward", "configure_gradient_clipping", "clip_gradients",
    "log_grad_norm", "configure_optimizers", "configure_callbacks", "predict_step", "tbptt_split_batch",
})



class HookDispatcher:
    """Calls hooks on callbacks, then the module (and the datamodule), skipping what nobody implements.

    :meth:`rebuild` resolves every hook once per stage: on the *instance*, so ``model.validation_step = None`` turns
    a hook off and a function assigned to ``model.on_train_batch_end`` is called, and with the 1.5 signatures
    adapted (``on_train_batch_start/end`` written without ``dataloader_idx`` are called without it). A hook nobody
    implements costs one set lookup per call.
    """

    def __init__(self, trainer: Trainer) -> None:
        self._trainer = trainer
        self._by_hook: dict[str, list[Callback]] = {}
        self._callback_fns: dict[str, list[tuple[Callback, Callable[..., Any]]]] = {}
        self._module: LightningModule | None = None
        # The module's instance dict: ``_current_fx_name`` (which self.log reads) is set there directly, without a
        # call through nn.Module.__setattr__, several times per step.
        self._module_vars: dict[str, Any] = {}
        self._module_fns: dict[str, Callable[..., Any]] = {}
        self._live: frozenset[str] = frozenset()
        #: The hooks at least one callback implements: a loop may test a per-batch callback-only hook here and
        #: skip even the call to :meth:`callbacks` when the set lacks it.
        self.callback_hooks: frozenset[str] = frozenset()
        self._wants_epoch_outputs = False
        self._profiler: Any = None

    def rebuild(self, callbacks: Iterable[Callback], module: LightningModule | None, profiler: Any) -> None:
        """Resolve which callback and module functions serve which hook (at the start of every stage)."""
        callbacks = list(callbacks)
        self._by_hook = {
            hook: [cb for cb in callbacks if _overrides(cb, Callback, hook) or hook in getattr(cb, "__dict__", ())]
            for hook in CALLBACK_HOOKS
        }
        self._callback_fns = {
            hook: [(cb, _adapt_callback(hook, getattr(cb, hook))) for cb in cbs]
            for hook, cbs in self._by_hook.items() if cbs
        }
        self._module = module
        self._module_vars = vars(module) if module is not None else {}
        if module is not None:
            for cb in callbacks:
                cb._logging_module = module  # Callback.log/log_dict go through the module (1.5)
        self._module_fns = _module_hooks(module) if module is not None else {}
        self.callback_hooks = frozenset(self._callback_fns)
        self._live = self.callback_hooks | frozenset(self._module_fns)
        epoch_end = [fn for _, fn in self._callback_fns.get("on_train_epoch_end", ())]
        epoch_end += [self._module_fns["on_train_epoch_end"]] if "on_train_epoch_end" in self._module_fns else []
        self._wants_epoch_outputs = any(wants_epoch_outputs(fn) for fn in epoch_end)
        self._profiler = profiler if profiling_enabled(profiler) else None

    def has_callbacks(self, hook: str) -> bool:
        return hook in self._callback_fns

    def module_overrides(self, hook: str) -> bool:
        """Whether the module implements ``hook`` (or the base implementation does real work)."""
        return hook in self._module_fns

    def wants_train_epoch_outputs(self) -> bool:
        """Whether a 1.2/1.3-style ``on_train_epoch_end(..., outputs)`` needs the epoch's training outputs."""
        return self._wants_epoch_outputs

    def is_live(self, hook: str) -> bool:
        """Whether a callback or the module implements ``hook``."""
        return hook in self._live

    def callbacks(self, hook: str, *args: Any, **kwargs: Any) -> None:
        calls = self._callback_fns.get(hook)
        if not calls:
            return
        # Without a module, state is a dict of the dispatcher's own: the hook name written there goes nowhere.
        trainer, module, state, profiler = self._trainer, self._module, self._module_vars, self._profiler
        prev = state.get("_current_fx_name")
        state["_current_fx_name"] = hook
        try:
            if profiler is None and not kwargs:  # the common case: no action name, no context manager
                full = (trainer, module, *args)  # built once for all the callbacks
                for _, fn in calls:
                    fn(*full)
            elif profiler is None:
                for _, fn in calls:
                    fn(trainer, module, *args, **kwargs)
            else:
                for cb, fn in calls:
                    with profiler.profile(f"[Callback]{cb.state_key}.{hook}"):
                        fn(trainer, module, *args, **kwargs)
        finally:
            state["_current_fx_name"] = prev

    def each_callback(self, hook: str, callbacks: Iterable[Callback], *args: Any) -> list[tuple[Callback, Any]]:
        """Call ``hook`` on every one of ``callbacks`` (overridden or not) and return what each returned.

        For the checkpoint hooks, whose return values (callback states) the caller collects.
        """
        trainer, module = self._trainer, self._trainer.lightning_module
        results = []
        for cb in callbacks:
            if self._profiler is None:
                results.append((cb, getattr(cb, hook)(trainer, module, *args)))
            else:
                with self._profiler.profile(f"[Callback]{cb.state_key}.{hook}"):
                    results.append((cb, getattr(cb, hook)(trainer, module, *args)))
        return results

    def module(self, hook: str, *args: Any, **kwargs: Any) -> Any:
        fn = self._module_fns.get(hook)
        if fn is None:
            return None
        state = self._module_vars
        prev = state["_current_fx_name"]
        state["_current_fx_name"] = hook
        try:
            if self._profiler is None:  # the common case: no context manager on the hot path
                return fn(*args, **kwargs)
            with self._profiler.profile(f"[LightningModule]{type(self._module).__name__}.{hook}"):
                return fn(*args, **kwargs)
        finally:
            state["_current_fx_name"] = prev

    def datamodule(self, hook: str, *args: Any, **kwargs: Any) -> Any:
        """A hook of the trainer's LightningDataModule (prepare_data, setup, dataloaders, batch transfer, ...)."""
        dm = getattr(self._trainer, "datamodule", None)
        fn = getattr(dm, hook, None) if dm is not None else None
        if fn is None:
            return None
        if hook in _OPTIONAL_LAST_ARGUMENT:  # 1.3's transfer_batch_to_device(batch, device) on a DataModule too
            func = getattr(fn, "__func__", fn)
            if _drops_last_argument(func, hook, 1 if func is not fn else 0):
                args = args[:-1]
        if self._profiler is None:
            return fn(*args, **kwargs)
        with self._profiler.profile(f"[LightningDataModule]{type(dm).__name__}.{hook}"):
            return fn(*args, **kwargs)

    def call(self, hook: str, *args: Any, **kwargs: Any) -> Any:
        """Callbacks then the module (the 1.5 order for every paired hook)."""
        if hook not in self._live:
            return None
        if hook in self._callback_fns:
            self.callbacks(hook, *args, **kwargs)
        # A hook only callbacks implement (the progress bar's on_train_batch_end, say) makes no module call.
        return self.module(hook, *args, **kwargs) if hook in self._module_fns else None

    def describe(self) -> str:
        """Which callbacks sit on which hook (handy when debugging a callback set-up)."""
        lines = []
        for hook, callbacks in self._by_hook.items():
            if callbacks:
                lines.append(f"{hook}: " + ", ".join(type(cb).__name__ for cb in callbacks))
        return "\n".join(lines) or "(no callback overrides any hook)"


# Hooks whose last argument (dataloader_idx) 1.5 deprecated: an implementation without it is called without it.
# Hooks whose last argument 1.x code may leave out: 1.5's on_train_batch_start/end without ``dataloader_idx``, and
# 1.3's ``transfer_batch_to_device(batch, device)`` (1.4 added ``dataloader_idx`` and still called the old form).
_OPTIONAL_LAST_ARGUMENT = {"on_train_batch_start": 3, "on_train_batch_end": 4, "transfer_batch_to_device": 3}


# Callback hooks called with the trainer only (1.5: there is no module yet when the Trainer is built).
_TRAINER_ONLY = frozenset({"on_init_start", "on_init_end"})


def _adapt_callback(hook: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """A callback hook as the dispatcher calls it: ``fn(trainer, module, *args)``."""
    if hook in _TRAINER_ONLY:
        # partial of a module-level function, not a closure: the dispatcher (and so a Trainer) stays picklable.
        return functools.partial(_call_with_trainer_only, fn)
    if hook == "on_train_epoch_end" and _takes_epoch_outputs(fn, 2):
        return functools.partial(_call_callback_with_epoch_outputs, fn)
    return _adapt_signature(hook, fn, 2)


def _takes_epoch_outputs(fn: Callable[..., Any], leading: int) -> bool:
    """Whether an ``on_train_epoch_end`` is the 1.2/1.3 form that takes ``outputs`` (1.4 and 1.5 still passed them)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) <= leading or any(p.kind is p.VAR_POSITIONAL for p in params):
        return False
    extra = positional[leading]  # 1.5 looked for a parameter named "outputs"; an old one may be named otherwise
    if extra.default is not extra.empty and extra.name != "outputs":
        return False
    rank_zero_deprecation(f"`{getattr(fn, '__qualname__', fn)}` takes `outputs`: the argument of "
                          "`on_train_epoch_end(..., outputs)` is deprecated since Lightning 1.4; use "
                          "`training_epoch_end(outputs)` in the LightningModule instead", stacklevel=2)
    return True


def _call_callback_with_epoch_outputs(fn: Callable[..., Any], trainer: Any, module: Any, *args: Any) -> Any:
    return fn(trainer, module, getattr(trainer, "_train_epoch_outputs", []), *args)


def _call_module_with_epoch_outputs(fn: Callable[..., Any]) -> Any:
    return fn(getattr(fn.__self__.trainer, "_train_epoch_outputs", []))


def wants_epoch_outputs(fn: Callable[..., Any]) -> bool:
    """Whether a resolved ``on_train_epoch_end`` is one that receives the epoch's training outputs."""
    return isinstance(fn, functools.partial) and fn.func in (_call_callback_with_epoch_outputs,
                                                              _call_module_with_epoch_outputs)


def _call_with_trainer_only(fn: Callable[..., Any], trainer: Any, module: Any, *args: Any, **kwargs: Any) -> Any:
    return fn(trainer, *args, **kwargs)


def _adapt_signature(hook: str, fn: Callable[..., Any], leading: int) -> Callable[..., Any]:
    """``fn`` itself, or a wrapper dropping ``dataloader_idx`` when ``fn`` was written without it.

    ``leading`` is the number of arguments before the hook's own (callbacks get trainer and module first).
    """
    full = _OPTIONAL_LAST_ARGUMENT.get(hook)
    if full is None:
        return fn
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return fn
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return fn
    positional = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
    if positional >= leading + full:
        return fn
    return functools.partial(_call_without_last_argument, fn)


@functools.cache
def _drops_last_argument(func: Callable[..., Any], hook: str, leading: int) -> bool:
    """:func:`_adapt_signature`'s verdict for a DataModule's hook, kept per function (asked once per batch)."""
    return _adapt_signature(hook, func, leading) is not func


def _call_without_last_argument(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args[:-1])


def _module_hooks(module: LightningModule) -> dict[str, Callable[..., Any]]:
    """The module's live hooks, resolved on the instance: name -> callable.

    A hook is live when the instance holds a function for it, the class overrides the LightningModule method, or
    the base method does real work; an instance attribute set to None turns the hook off.
    """
    cls, instance = type(module), vars(module)
    fns: dict[str, Callable[..., Any]] = {}
    for name in _public_methods(cls):
        if name in instance:
            value = instance[name]
            if callable(value):
                fns[name] = _adapt_signature(name, value, 0)
            continue
        if name in _MODULE_HOOKS_WITH_DEFAULTS or getattr(cls, name) is not getattr(LightningModule, name, None):
            fn = getattr(module, name)
            if name == "on_train_epoch_end" and inspect.ismethod(fn) and _takes_epoch_outputs(fn, 0):
                fns[name] = functools.partial(_call_module_with_epoch_outputs, fn)
            else:
                fns[name] = _adapt_signature(name, fn, 0)
    return fns


_PUBLIC_METHODS: dict[type, tuple[str, ...]] = {}


def _is_method(attribute: Any) -> bool:
    """A function, static/class method or other callable defined on a class; not a property or data."""
    if isinstance(attribute, (staticmethod, classmethod, functools.partialmethod)):
        return True
    return callable(attribute) and not isinstance(attribute, (property, type))


def _public_methods(cls: type) -> tuple[str, ...]:
    """Public method names of ``cls`` (properties, data and nested classes excluded), cached per class."""
    names = _PUBLIC_METHODS.get(cls)
    if names is None:
        names = tuple(name for name in dir(cls) if not name.startswith("_")
                      and _is_method(inspect.getattr_static(cls, name, None)))
        _PUBLIC_METHODS[cls] = names
    return names


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
