"""Snapshot, short fits, restore: the one mechanism both tuners run on.

A :class:`TuningSession` remembers the trainer's attributes, the RNG state and the module's training flags when it
opens. Each :meth:`TuningSession.run` applies temporary settings (only the tuner's callback, no loggers, no profiler,
no validation or sanity check, counters from zero, a step limit) and calls the trainer's ordinary ``fit``. After
every run the trainer's attributes go back to the snapshot, so nothing a short fit created (optimizers, loaders,
the last batch, metrics) stays alive between trials. Module weights and the state of optimizers that
``configure_optimizers`` returns are captured inside the first run, right after ``setup`` and
``configure_optimizers`` (layers made in ``setup()`` exist by then), and loaded back when the session closes.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from typing import Any

import torch

from trainer_core.callback import Callback
from trainer_core.hooks import HookDispatcher
from trainer_core.profilers import PassThroughProfiler
from trainer_core.seed import capture_rng_state, restore_rng_state
from trainer_core.trainer.state import LoopProgress

__all__ = ["TuningSession", "SessionCallback"]

log = logging.getLogger("trainer_core")

# Containers the fit loop mutates in place: the snapshot keeps copies, the short fit gets fresh ones.
_FRESH_DICTS = ("callback_metrics", "logged_metrics", "_progress_bar_tensors", "grad_norms")


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


class TuningSession:
    """Context manager: snapshot on enter, ``run`` short fits, restore everything on exit.

    Args:
        trainer: the Trainer being tuned.
        model: the LightningModule.
        fit_kwargs: ``train_dataloaders``, ``val_dataloaders`` and ``datamodule`` for ``trainer.fit``.
    """

    def __init__(self, trainer: Any, model: Any, **fit_kwargs: Any) -> None:
        self.trainer = trainer
        self.model = model
        self.fit_kwargs = fit_kwargs
        self.interrupted = False
        self.lazy_keys: set[str] = set()
        self.lazy_pending = False
        self._weights: dict[str, torch.Tensor] | None = None
        self._optimizer_states: list[tuple[Any, dict[str, Any]]] = []
        self._attrs: dict[str, Any] = {}
        self._copies: dict[str, Any] = {}
        self._telemetry = HookDispatcher(trainer)

    # --- open / close ---------------------------------------------------------------------------------------
    def __enter__(self) -> TuningSession:
        t = self.trainer
        self._attrs = dict(vars(t))
        self._copies = {name: dict(getattr(t, name)) for name in _FRESH_DICTS if isinstance(getattr(t, name, None),
                                                                                                dict)}
        self._copies["progress"] = dataclasses.replace(t.progress)
        self._copies["state"] = dataclasses.replace(t.state)
        self._copies["callbacks"] = list(t.callbacks)
        scaler = t.scaler
        self._scaler_state = copy.deepcopy(scaler.state_dict()) if scaler is not None else None
        self._rng = capture_rng_state()
        self._training_flags = [(m, m.training) for m in self.model.modules()]
        # Telemetry goes to the user's callbacks (the studio's recorder), which are not installed during short fits.
        self._telemetry.rebuild(t.callbacks, self.model, None)
        return self

    def __exit__(self, *exc: Any) -> None:
        model = self.model
        self._restore_trainer()
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
        t = self.trainer
        # The model stays attached, as after any stage (1.x): trainer.lightning_module is the tuned module.
        t.lightning_module = model
        object.__setattr__(model, "trainer", t)
        if self.fit_kwargs.get("datamodule") is not None:
            t.datamodule = self.fit_kwargs["datamodule"]
        if self.interrupted:
            t.state.status = "interrupted"
        t._hooks.rebuild(t.callbacks, model, t.profiler)

    def _restore_trainer(self) -> None:
        t = self.trainer
        t.__dict__.clear()
        t.__dict__.update(self._attrs)
        for name, value in self._copies.items():
            if name in ("progress", "state"):
                setattr(t, name, dataclasses.replace(value))
            elif name == "callbacks":
                t.callbacks = list(value)
            else:
                container = getattr(t, name)
                container.clear()
                container.update(value)

    # --- short fits -----------------------------------------------------------------------------------------
    def run(self, callback: SessionCallback, max_steps: int, **overrides: Any) -> None:
        """One short ``fit`` of at most ``max_steps`` optimizer steps with only ``callback`` installed.

        Args:
            callback: the tuner's callback (the only one installed).
            max_steps: the step limit.
            **overrides: more trainer attributes to set for this fit only (``limit_train_batches=1.0``, ...).

        Exceptions from the fit propagate (the trainer's attributes are back at the snapshot either way).
        """
        t, model = self.trainer, self.model
        callback.session = self
        self._apply_temporary_settings(callback, max_steps)
        for name, value in overrides.items():
            setattr(t, name, value)
        # A module's configure_callbacks would bring checkpointing or early stopping back into the short fit.
        object.__setattr__(model, "configure_callbacks", _no_callbacks)
        try:
            t.fit(model, **self.fit_kwargs)
            if t.state.status == "interrupted":
                self.interrupted = True
        finally:
            model.__dict__.pop("configure_callbacks", None)
            self._restore_trainer()

    def _apply_temporary_settings(self, callback: Callback, max_steps: int) -> None:
        t = self.trainer
        t.callbacks = [callback]
        t.loggers = []
        t.profiler = PassThroughProfiler()
        t.max_steps, t.max_epochs = max_steps, -1
        t.min_steps, t.min_epochs = 0, 0
        t.max_time = None
        t.limit_val_batches, t.num_sanity_val_steps = 0, 0
        t.val_check_interval, t.check_val_every_n_epoch = 1.0, 1
        t.resume_from_checkpoint = None
        t._resume_skip_batches, t._resume_epoch_end, t._resume_rng = 0, False, None
        t.progress = LoopProgress()
        t.should_stop = False
        for name in _FRESH_DICTS:
            setattr(t, name, {})

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
        try:
            self._telemetry.callbacks(hook, payload)
        except KeyboardInterrupt:
            log.warning("Tuning interrupted; the trainer and the model are being restored")
            self.interrupted = True
            self.trainer.should_stop = True


def _no_callbacks() -> None:
    return None
