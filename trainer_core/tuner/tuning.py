"""``Tuner``: ``trainer.tune()``, ``trainer.tuner.lr_find(...)`` and ``trainer.tuner.scale_batch_size(...)``.

Each call opens a :class:`~trainer_core.tuner._session.TuningSession` (snapshot of the module and the RNG), runs
every short fit through the ordinary ``fit`` of a Trainer built from the user's flags plus the finder's overrides,
and restores weights, optimizer state and RNG state when it closes. The user's Trainer itself (counters, callbacks,
loggers, limits) is never changed, so a fit after tuning behaves like a fit on a fresh model with the tuned values.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from trainer_core.exceptions import MisconfigurationError
from trainer_core.trainer.stage_scope import stage_scope
from trainer_core.tuner import batch_size as bs
from trainer_core.tuner._attrs import find_holders, lr_attr_name
from trainer_core.tuner._session import TuningSession
from trainer_core.tuner.lr_finder import LRFinder
from trainer_core.tuner.lr_finder import lr_find as _run_lr_find

__all__ = ["Tuner"]

log = logging.getLogger("trainer_core")

_R = TypeVar("_R")


class Tuner:
    """Finds a learning rate and the largest batch size that fits, for one Trainer (single process only)."""

    def __init__(self, trainer: Any) -> None:
        self.trainer = trainer
        #: The trials of the last ``scale_batch_size`` call, in order (size, fits, peak memory, time).
        self.last_trials: list[bs.Trial] = []
        self._depth = 0

    def _in_stage(self, model: Any, body: Callable[[], _R]) -> _R | None:
        """Run ``body`` inside the "tune" stage (the outermost call opens it); None when the stage was stopped first.

        The user's callbacks get setup/teardown("tune"); they never see the short fits themselves. This is how a
        recorder (the studio's events file) learns that a tuning stage started and ended, next to the
        ``on_lr_find_point``/``on_batch_size_trial`` points. The stage opens and closes like every other stage
        (``stage_scope``: a Ctrl+C is a graceful stop, any other error propagates), through the trainer's own
        dispatcher.
        """
        if self._depth:
            return body()
        trainer = self.trainer
        hooks = trainer._hooks
        # The user's profiler is not set up for tuning: the tune stage's hooks are not profiled.
        hooks.rebuild(trainer.callbacks, model, None)
        torn_down: list[str] = []

        def teardown(stage: str) -> None:
            torn_down.append(stage)
            hooks.callbacks("teardown", stage=stage)

        result: _R | None = None
        self._depth += 1
        try:
            # An early end (failure, Ctrl+C) tears down inside the scope; a normal or requested stop after it.
            with stage_scope(trainer, "tune", hooks, cleanup=teardown):
                hooks.callbacks("setup", stage="tune")
                result = body()
            if not torn_down:
                teardown("tune")
        finally:
            self._depth -= 1
            hooks.rebuild(trainer.callbacks, model, trainer.profiler)
        return result

    # --- trainer.tune ---------------------------------------------------------------------------------------
    def tune(self, model: Any, train_dataloaders: Any = None, val_dataloaders: Any = None, datamodule: Any = None,
             scale_batch_size_kwargs: dict[str, Any] | None = None,
             lr_find_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run the batch-size finder then the LR finder, as ``auto_scale_batch_size``/``auto_lr_find`` ask.

        Returns:
            ``{"scale_batch_size": int | None, "lr_find": LRFinder | None}``.
        """
        trainer = self.trainer
        result: dict[str, Any] = {"scale_batch_size": None, "lr_find": None}
        loaders = dict(train_dataloaders=train_dataloaders, val_dataloaders=val_dataloaders, datamodule=datamodule)
        scale, find = trainer.auto_scale_batch_size, trainer.auto_lr_find
        if not scale and not find:
            log.info("trainer.tune(): nothing to tune; set auto_lr_find=True and/or auto_scale_batch_size=True")
        def body() -> None:
            if scale:
                kwargs = {"mode": "power" if scale is True else scale, **(scale_batch_size_kwargs or {})}
                result["scale_batch_size"] = self.scale_batch_size(model, **loaders, **kwargs)
            if find and trainer.state.status != "interrupted":
                kwargs = {"update_attr": True, **(lr_find_kwargs or {})}
                if isinstance(find, str):
                    kwargs.setdefault("attr_name", find)
                result["lr_find"] = self.lr_find(model, **loaders, **kwargs)

        self._in_stage(model, body)
        return result

    # --- learning-rate finder -------------------------------------------------------------------------------
    def lr_find(self, model: Any, train_dataloaders: Any = None, val_dataloaders: Any = None,
                datamodule: Any = None, min_lr: float = 1e-8, max_lr: float = 1.0, num_training: int = 100,
                mode: str = "exponential", early_stop_threshold: float | None = 4.0, update_attr: bool = False,
                attr_name: str = "", train_dataloader: Any = None) -> LRFinder | None:
        """Sweep the lr from ``min_lr`` to ``max_lr`` over ``num_training`` steps and record the loss.

        Args:
            model: the LightningModule (its ``configure_optimizers`` must return one optimizer).
            train_dataloaders, val_dataloaders, datamodule: as for ``fit`` (validation does not run).
            min_lr, max_lr: the sweep's first and last lr.
            num_training: steps to run; the loader is repeated if it is shorter.
            mode: "exponential" (uniform in log-lr) or "linear".
            early_stop_threshold: stop when the smoothed loss exceeds this multiple of the best; None never stops.
            update_attr: write the suggestion to ``attr_name`` (default: ``lr`` or ``learning_rate``) on the model,
                its hparams and the datamodule. Nothing is written when there is no suggestion.
            attr_name: the attribute to update.

        Returns:
            The :class:`LRFinder` result, or None under ``fast_dev_run`` (skipped).
        """
        trainer = self.trainer
        train_dataloaders = train_dataloaders if train_dataloaders is not None else train_dataloader
        if self._skip("learning-rate finder"):
            return None
        dm = datamodule if datamodule is not None else trainer.datamodule
        attr = lr_attr_name(model, dm, attr_name or _auto_lr_name(trainer)) if update_attr else ""
        # Validation is off in the short fits: only the training data is passed on.
        data = {"train_dataloaders": train_dataloaders} if train_dataloaders is not None else {"datamodule": dm}
        session = TuningSession(trainer, model, **data)

        def body() -> LRFinder:
            with session:
                return _run_lr_find(session, min_lr=min_lr, max_lr=max_lr, num_training=num_training, mode=mode,
                                    early_stop_threshold=early_stop_threshold)

        finder = self._in_stage(model, body)
        if finder is None:
            return None  # stopped before the sweep started
        if update_attr:
            lr = finder.suggestion()
            if lr is not None and math.isfinite(lr):
                find_holders(model, dm, attr, warn=True).write(lr)
                log.info("Learning rate set to %g (%s)", lr, attr)
            else:
                log.warning("LR finder: %s is unchanged. %s", attr, finder.message)
        return finder

    # --- batch-size finder ----------------------------------------------------------------------------------
    def scale_batch_size(self, model: Any, train_dataloaders: Any = None, val_dataloaders: Any = None,
                         datamodule: Any = None, mode: str = "power", steps_per_trial: int = 3, init_val: int = 2,
                         max_trials: int = 25, batch_arg_name: str = "batch_size", margin: float = 0.0,
                         max_val: int | None = None, tolerance: float = 0.02,
                         train_dataloader: Any = None) -> int | None:
        """Find the largest batch size whose short fit does not run out of memory, and write it to the model.

        Args:
            model: the LightningModule; its ``train_dataloader()`` (or the datamodule's) must read the attribute.
            mode: "power", "binsearch" or "fit" (fast: predicts the limit from peak memory, then confirms).
            steps_per_trial: optimizer steps per trial ("fit" uses at most 2: enough to include optimizer state).
            init_val: the first size tried.
            max_trials: the most trials ("power"), successes ("binsearch", 1.5 counting) or trials ("fit"). 0 runs
                no trial in "power" and "fit" and returns ``init_val`` (1.5); "binsearch" still runs its first trial.
            batch_arg_name: the attribute, looked up on the model, then ``model.hparams``, then the datamodule.
            margin: keep this fraction free, e.g. 0.05 returns 95 % of the size found.
            max_val: never try more than this; the dataset length caps the size too.
            tolerance: "fit" stops when the bracket is within this fraction of the size found.

        Returns:
            The batch size (already written to every holder), or None under ``fast_dev_run``.
        """
        trainer = self.trainer
        train_dataloaders = train_dataloaders if train_dataloaders is not None else train_dataloader
        if self._skip("batch-size finder"):
            return None
        _check_scale_args(mode, steps_per_trial, init_val, max_trials, margin, max_val, tolerance)
        dm = datamodule if datamodule is not None else trainer.datamodule
        holders = _batch_size_holders(model, dm, batch_arg_name, train_dataloaders)
        self.last_trials = []
        if max_trials == 0 and mode != "binsearch":
            # Lightning 1.5: the search loop runs zero times and init_val (capped by max_val) is the answer, untried.
            found = min(init_val, max_val) if max_val else init_val
            holders.write(found)
            log.info("Batch size finder: max_trials=0, no trial ran; the batch size is init_val=%d", found)
            return found
        original = holders.read()
        session = TuningSession(trainer, model, datamodule=dm)
        steps = min(steps_per_trial, 2) if mode == "fit" else steps_per_trial
        ctx = bs.TrialContext(session, holders.write, steps, bs.memory_probe_for(trainer.strategy.root_device))
        self.last_trials = trials = []

        def try_size(size: int) -> bs.Trial:
            if session.interrupted:
                return bs.Trial(size, False)
            trial = bs.run_trial(ctx, size)
            trials.append(trial)
            return trial

        def cap() -> int:
            limits = [n for n in (ctx.dataset_len, max_val) if n]
            return max(1, min(limits)) if limits else 2 ** 62

        def body() -> int | None:
            with session, bs.frozen_heap(full_collect=ctx.probe is not None):
                found = _search(mode, try_size, init_val, max_trials, cap, ctx.probe, tolerance)
            if found is None:
                holders.write(original)
                if session.interrupted:
                    return None
                _raise_nothing_fits(trials, batch_arg_name)
            if margin:
                found = max(1, int(found * (1 - margin)))
            holders.write(found)
            log.info("Finished batch size finder (%s, %d trials): will continue with batch size %d", mode, len(trials),
                     found)
            return found

        return self._in_stage(model, body)

    def _skip(self, what: str) -> bool:
        trainer = self.trainer
        if trainer.world_size > 1 or getattr(trainer.strategy, "launches_processes", False):
            raise MisconfigurationError(
                f"The {what} runs in a single process; this Trainer uses {trainer.world_size} processes "
                f"({type(trainer.strategy).__name__}). Tune with a one-device Trainer (devices=1), then train the "
                "tuned model with the distributed one.")
        if trainer.fast_dev_run:
            log.info("Skipping the %s: fast_dev_run is on. Turn fast_dev_run off to tune.", what)
            return True
        return False


def _batch_size_holders(model: Any, datamodule: Any, batch_arg_name: str, train_dataloaders: Any) -> Any:
    """Where the batch size lives; errors when a loader was passed in directly or nothing holds the attribute."""
    if train_dataloaders is not None:
        raise MisconfigurationError(
            "The batch-size finder cannot change the batch size of a DataLoader passed in directly. Let the "
            f"model's train_dataloader() (or a LightningDataModule) build the loader from self.{batch_arg_name}, "
            "and pass the model or datamodule instead.")
    holders = find_holders(model, datamodule, batch_arg_name, warn=True)
    if not holders:
        raise MisconfigurationError(
            f"The batch-size finder found no {batch_arg_name!r} on the model, in model.hparams or on the "
            f"datamodule. Add `self.{batch_arg_name} = 2` to __init__ and use it in train_dataloader(), or pass "
            "batch_arg_name=\"<your attribute>\".")
    return holders


def _search(mode: str, try_size: bs.TrySize, init_val: int, max_trials: int, cap: Callable[[], int], probe: Any,
            tolerance: float) -> int | None:
    if mode == "power":
        return bs.power_search(try_size, init_val, max_trials, cap)
    if mode == "binsearch":
        return bs.binsearch(try_size, init_val, max_trials, cap)
    budget = (lambda: probe.budget()) if probe is not None else (lambda: None)
    return bs.fit_search(try_size, init_val, max_trials, cap, budget, tolerance)


def _raise_nothing_fits(trials: list[bs.Trial], batch_arg_name: str) -> NoReturn:
    if not any(t.oom for t in trials):
        raise MisconfigurationError(
            f"The batch-size finder never got a training batch out of train_dataloader() (sizes tried: "
            f"{[t.batch_size for t in trials]}). Check that the loader reads self.{batch_arg_name}, "
            "that the dataset is not empty, and that drop_last=True does not drop every batch.")
    raise MisconfigurationError(
        f"The batch-size finder found no {batch_arg_name} that fits in memory (tried "
        f"{[t.batch_size for t in trials]}). Use a smaller model or input, precision=16 or \"bf16\", or "
        "gradient accumulation with a small batch.")


def _auto_lr_name(trainer: Any) -> str:
    value = trainer.auto_lr_find
    return value if isinstance(value, str) else ""


def _check_scale_args(mode: str, steps_per_trial: int, init_val: int, max_trials: int, margin: float,
                      max_val: int | None, tolerance: float) -> None:
    if mode not in bs.MODES:
        raise MisconfigurationError(
            f"scale_batch_size mode={mode!r} is not known; use \"power\", \"binsearch\" or \"fit\".")
    for name, value in (("steps_per_trial", steps_per_trial), ("init_val", init_val)):
        if not isinstance(value, int) or value < 1:
            raise MisconfigurationError(f"scale_batch_size {name}={value!r} must be a positive int.")
    if not isinstance(max_trials, int) or max_trials < 0:
        raise MisconfigurationError(f"scale_batch_size max_trials={max_trials!r} must be an int >= 0.")
    if not 0 <= margin < 1:
        raise MisconfigurationError(f"scale_batch_size margin={margin!r} must be in [0, 1), e.g. 0.05 for 5 %.")
    if max_val is not None and (not isinstance(max_val, int) or max_val < 1):
        raise MisconfigurationError(f"scale_batch_size max_val={max_val!r} must be a positive int or None.")
    if not 0 <= tolerance < 1:
        raise MisconfigurationError(f"scale_batch_size tolerance={tolerance!r} must be in [0, 1), e.g. 0.02.")
