"""Snapshot, short fits, restore: the one mechanism both tuners run on.

A :class:`TuningSession` remembers the RNG state and the module's training flags when it opens. Each
:meth:`TuningSession.run` builds a fresh Trainer of the user's class from the flags the user's Trainer was built with
plus the finder's overrides (only the finder's callback, no loggers, no profiler, no checkpointing, no validation or
sanity check, a step limit) and calls its ordinary ``fit``. The user's Trainer is never modified: its counters,
callbacks, loggers, limits and optimizers are whatever they were before tuning, and nothing a short fit created
(optimizers, loaders, the last batch, metrics) outlives the short Trainer. Module weights and the state of optimizers
that ``configure_optimizers`` returns are captured inside the first run, right after ``setup`` and
``configure_optimizers`` (layers made in ``setup()`` exist by then), and loaded back when the session closes.
"""

from __future__ import annotations

import copy
import functools
import inspect
import logging
from typing import Any

import torch

from trainer_core.callback import Callback
from trainer_core.flags import override_flags
from trainer_core.hooks import HookDispatcher
from trainer_core.seed import capture_rng_state, restore_rng_state

__all__ = ["TuningSession", "SessionCallback", "short_fit_flags"]

log = logging.getLogger("trainer_core")


class SessionCallback(Callback):
    """Base of the tuners' internal callbacks: tells the session when the short fit has set up.

    Subclasses that override ``on_fit_start`` or ``on_before_backward`` must call ``super()``.
    """

    session: TuningSession | None = None

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        if self.session is not None:
            self.session.fit_started(trainer, pl_module)

    def on_before_backward(self, trainer: Any, pl_module: Any, loss: Any) -> None:
        session = self.session
        if session is not None and session.lazy_pending:
            session.capture_lazy(pl_module)


def short_fit_flags(given: dict[str, Any], callback: Callback, max_steps: int,
                    overrides: dict[str, Any]) -> dict[str, Any]:
    """The flags of one short fit: the user's flags, then the settings every finder run needs, then ``overrides``.

    Args:
        given: the keywords the user's Trainer was built with.
        callback: the finder's callback, the only one installed.
        max_steps: optimizer steps to run at most.
        overrides: the finder's own flags (``limit_train_batches=1.0`` for the batch-size trials).
    """
    settings: dict[str, Any] = {
        "callbacks": [callback], "logger": False, "profiler": None, "enable_checkpointing": False,
        "enable_progress_bar": False, "enable_model_summary": False,
        "max_steps": max_steps, "max_epochs": -1, "min_steps": 0, "min_epochs": 0, "max_time": None,
        "limit_val_batches": 0, "num_sanity_val_steps": 0, "val_check_interval": 1.0, "check_val_every_n_epoch": 1,
        "resume_from_checkpoint": None, "auto_lr_find": False, "auto_scale_batch_size": False,
    }
    overfit = given.get("overfit_batches") or 0
    if overfit > 0:
        # overfit_batches would also turn validation back on (it sets every limit_*): keep only its train limit.
        settings.update(overfit_batches=0.0, limit_train_batches=overfit)
    settings.update(overrides)
    return override_flags(given, settings)


class _WithoutModuleCallbacks(HookDispatcher):
    """The short fit's dispatcher: the module's ``configure_callbacks`` is not asked for callbacks.

    A short fit must run only the finder's callback: a ModelCheckpoint or EarlyStopping that the module brings in
    would write checkpoints or stop the sweep.
    """

    def module(self, hook: str, *args: Any, **kwargs: Any) -> Any:
        if hook == "configure_callbacks":
            return None
        return super().module(hook, *args, **kwargs)


def _buildable_class(trainer: Any) -> type:
    """The user's Trainer class, or its engine base when a subclass's constructor does not take the flags as-is."""
    cls = type(trainer)
    base = next((c for c in cls.__mro__ if "tuner" in vars(c)), cls)  # the engine's Trainer defines ``tuner``
    if cls.__init__ is base.__init__:
        return cls
    try:
        inspect.signature(cls).bind(**trainer._init_flags)
    except TypeError:
        return base
    return cls


@functools.cache
def _short_fit_class(trainer_class: type) -> type:
    """``trainer_class`` whose fits leave out the module's ``configure_callbacks`` (a subclass, made once)."""

    def __init__(self: Any, **flags: Any) -> None:
        trainer_class.__init__(self, **flags)
        self._hooks = _WithoutModuleCallbacks(self)  # resolved afresh when the fit starts

    return type(f"Tuning{trainer_class.__name__}", (trainer_class,), {"__init__": __init__, "__module__": __name__})


class TuningSession:
    """Context manager: snapshot on enter, ``run`` short fits, restore the module on exit.

    Args:
        trainer: the Trainer being tuned (left as it is; short fits run on Trainers built from its flags).
        model: the LightningModule.
        fit_kwargs: ``train_dataloaders`` or ``datamodule`` for the short fits' ``fit``.
    """

    def __init__(self, trainer: Any, model: Any, **fit_kwargs: Any) -> None:
        self.trainer = trainer
        self.model = model
        self.fit_kwargs = {name: value for name, value in fit_kwargs.items() if value is not None}
        self.interrupted = False
        self.lazy_keys: set[str] = set()
        self.lazy_pending = False
        self._weights: dict[str, torch.Tensor] | None = None
        self._optimizer_states: list[tuple[Any, dict[str, Any]]] = []
        self._running: Any = None
        # Telemetry goes to the user's callbacks (the studio's recorder), which are not installed during short fits.
        self._telemetry: HookDispatcher | None = None
        self._telemetry_trainer: Any = None

    # --- open / close ---------------------------------------------------------------------------------------
    def __enter__(self) -> TuningSession:
        self._rng = capture_rng_state()
        self._training_flags = [(m, m.training) for m in self.model.modules()]
        # Short fits build their own precision plugin, but a plugin object passed in the flags is shared.
        scaler = self.trainer.scaler
        self._scaler_state = copy.deepcopy(scaler.state_dict()) if scaler is not None else None
        return self

    def __exit__(self, *exc: Any) -> None:
        model = self.model
        if self._weights is not None:
            self._load_weights()
        for param in model.parameters():
            param.grad = None
        for optimizer, state in self._optimizer_states:
            optimizer.load_state_dict(state)
        for module, flag in self._training_flags:
            module.training = flag
        scaler = self.trainer.scaler
        if scaler is not None and self._scaler_state is not None:
            scaler.load_state_dict(self._scaler_state)
        restore_rng_state(self._rng)
        self._reattach()
        if self.interrupted:
            self.trainer.state.status = "interrupted"

    def _reattach(self) -> None:
        """The model (and datamodule) belong to the user's Trainer again, as after any stage (1.x)."""
        t, model = self.trainer, self.model
        t.lightning_module = model
        object.__setattr__(model, "trainer", t)
        datamodule = self.fit_kwargs.get("datamodule")
        if datamodule is not None:
            t.datamodule = datamodule
            datamodule.trainer = t

    # --- short fits -----------------------------------------------------------------------------------------
    def run(self, callback: SessionCallback, max_steps: int, **overrides: Any) -> None:
        """One short ``fit`` of at most ``max_steps`` optimizer steps with only ``callback`` installed.

        Args:
            callback: the tuner's callback (the only one installed).
            max_steps: the step limit.
            **overrides: more Trainer flags for this fit only (``limit_train_batches=1.0``, ...).

        Exceptions from the fit propagate (the user's Trainer was not touched either way).
        """
        callback.session = self
        flags = short_fit_flags(self.trainer._init_flags, callback, max_steps, overrides)
        short = _short_fit_class(_buildable_class(self.trainer))(**flags)
        self._running = short
        try:
            short.fit(self.model, **self.fit_kwargs)
            if short.interrupted:
                self.interrupted = True
        finally:
            # Nothing keeps the short Trainer (its optimizers, its last batch) alive once its fit is over.
            self._running = self._telemetry = self._telemetry_trainer = None
            self._reattach()

    # --- weights --------------------------------------------------------------------------------------------
    def fit_started(self, trainer: Any, module: Any) -> None:
        """Inside the first short fit, after setup and configure_optimizers: capture weights and optimizer state."""
        if self._weights is not None:
            return
        weights: dict[str, torch.Tensor] = {}
        for key, value in module.state_dict().items():
            if isinstance(value, torch.Tensor) and torch.nn.parameter.is_lazy(value):
                self.lazy_keys.add(key)
            elif isinstance(value, torch.Tensor):
                # On the host: a copy on the device would shrink the memory the batch-size finder measures.
                weights[key] = value.detach().to("cpu", copy=True)
            else:
                weights[key] = copy.deepcopy(value)
        self._weights = weights
        self.lazy_pending = bool(self.lazy_keys)
        self._optimizer_states = [(opt, copy.deepcopy(opt.state_dict())) for opt in trainer.optimizers]

    def capture_lazy(self, module: Any) -> None:
        """After the first forward: lazy parameters now have their initial values (no step was taken yet)."""
        self.lazy_pending = False
        state = module.state_dict()
        assert self._weights is not None  # fit_started ran before any forward
        for key in list(self.lazy_keys):
            value = state.get(key)
            if isinstance(value, torch.Tensor) and not torch.nn.parameter.is_lazy(value):
                self._weights[key] = value.detach().to("cpu", copy=True)
                self.lazy_keys.discard(key)

    def _load_weights(self) -> None:
        model, weights = self.model, self._weights
        assert weights is not None
        current = model.state_dict()
        # Load each tensor in place: keeps parameters (and any optimizer a user kept) pointing at the same storage.
        with torch.no_grad():
            for key, saved in weights.items():
                target = current.get(key)
                if isinstance(target, torch.Tensor) and not torch.nn.parameter.is_lazy(target) and \
                        target.shape == saved.shape:
                    target.copy_(saved)
                elif target is not None:
                    log.warning("tuner: could not restore %r (shape or type changed during tuning)", key)
        extra = set(current) - set(weights) - self.lazy_keys
        if extra:
            log.warning("tuner: %d tensors appeared during tuning and keep their tuned values: %s", len(extra),
                        sorted(extra)[:5])

    # --- telemetry ------------------------------------------------------------------------------------------
    def emit(self, hook: str, payload: dict[str, Any]) -> None:
        """Send a telemetry point to the user's callbacks (the studio's recorder among them) as it happens.

        The user's callbacks do not run inside the short fits, so these hooks are where they can stop tuning: a
        ``KeyboardInterrupt`` raised here (the studio's Stop) ends the current short fit and the tuner gracefully.
        """
        running = self._running
        if running is None:
            telemetry = self.trainer._hooks  # between short fits: the tune stage's dispatcher
        else:
            telemetry = self._telemetry
            if telemetry is None or self._telemetry_trainer is not running:
                # The hooks receive the Trainer running the short fit (its counters), with the user's callbacks.
                telemetry = self._telemetry = HookDispatcher(running)
                telemetry.rebuild(self.trainer.callbacks, self.model, None)
                self._telemetry_trainer = running
        try:
            telemetry.callbacks(hook, payload)
        except KeyboardInterrupt:
            log.warning("Tuning interrupted; the trainer and the model are being restored")
            self.interrupted = True
            if self._running is not None:
                self._running.should_stop = True
