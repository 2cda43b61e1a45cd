"""The learning-rate range test: sweep the lr over a short fit, record the loss, suggest the steepest descent.

The sweep runs as an ordinary short ``fit`` with one internal callback (see ``_session.py``): after
``configure_optimizers`` it sets every param group to ``min_lr`` and swaps the schedulers for a per-step sweep on
Lightning 1.x's schedule (see :func:`sweep_lrs`), whose last value is exactly ``max_lr``. Points are recorded on
optimizer steps only (gradient accumulation is respected), smoothed with an exponential moving average (beta 0.98,
bias-corrected) and sent to the callbacks' telemetry hook ``on_lr_find_point`` as they happen.

Examples:
    >>> finder = LRFinder("exponential", 1e-5, 1.0, 20)
    >>> finder.results = {"lr": [1e-5 * 10 ** (i / 4) for i in range(21)], "loss": [5 - abs(i - 12) / 4 for i in
    ...                   range(21)]}
    >>> finder.suggestion(skip_begin=2, skip_end=1) is not None
    True
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.tuner._session import SessionCallback, TuningSession

__all__ = ["LRFinder", "lr_find", "sweep_lrs"]

log = logging.getLogger("trainer_core")

BETA = 0.98
MODES = ("exponential", "linear")


class LRFinder:
    """What the learning-rate finder recorded.

    Attributes:
        mode: "exponential" or "linear".
        lr_min, lr_max, num_training: the sweep asked for.
        results: ``{"lr": [...], "loss": [...]}``; ``loss`` is the smoothed loss (as in Lightning), one per step run.
        raw_losses: the unsmoothed step losses.
        stop_reason: "finished", "diverged at step N", "data ran out after N steps" or "interrupted after N steps".
    """

    def __init__(self, mode: str, lr_min: float, lr_max: float, num_training: int) -> None:
        self.mode = mode
        self.lr_min = lr_min
        self.lr_max = lr_max
        self.num_training = num_training
        self.results: dict[str, list[float]] = {"lr": [], "loss": []}
        self.raw_losses: list[float] = []
        self.stop_reason = "finished"
        self._optimal_idx: int | None = None
        self._why_none = ""

    def __repr__(self) -> str:
        return (f"LRFinder(mode={self.mode!r}, points={len(self.results['lr'])}/{self.num_training}, "
                f"stop_reason={self.stop_reason!r})")

    # --- suggestion -----------------------------------------------------------------------------------------
    def suggestion(self, skip_begin: int = 10, skip_end: int = 1) -> float | None:
        """The lr at the steepest descent of the smoothed loss, or None (see :attr:`message`).

        The slope is taken over the point index (uniform steps in log-lr for the exponential sweep) after leaving
        out ``skip_begin`` points at the start, ``skip_end`` at the end and every non-finite loss; the chosen index
        is mapped back through the mask of finite points, so NaN losses never shift the suggestion.
        """
        losses = np.asarray(self.results["loss"], dtype=float)
        total = len(losses)
        end = total - skip_end if skip_end > 0 else total
        window = losses[skip_begin:end]
        kept = np.flatnonzero(np.isfinite(window))
        self._optimal_idx = None
        if len(kept) < 2:
            self._why_none = self._explain(total, len(window), len(kept), skip_begin, skip_end)
            log.error("LR finder: no suggestion. %s", self._why_none)
            return None
        slopes = np.gradient(window[kept])
        self._optimal_idx = int(kept[int(np.argmin(slopes))]) + skip_begin
        self._why_none = ""
        return float(self.results["lr"][self._optimal_idx])

    @property
    def message(self) -> str:
        """Why the last :meth:`suggestion` was None and what to change (empty when it was not None)."""
        return self._why_none

    def _explain(self, total: int, window: int, finite: int, skip_begin: int, skip_end: int) -> str:
        need = skip_begin + skip_end + 2
        head = (f"The suggestion needs at least 2 finite smoothed losses after skipping {skip_begin} point(s) at the "
                f"start and {skip_end} at the end (so at least {need} points); the finder recorded {total} point(s) "
                f"({self.stop_reason}), leaving {finite} finite of {window}.")
        if self.stop_reason.startswith("diverged"):
            fix = ("The loss diverged early: lower max_lr, raise early_stop_threshold (or set it to None), or call "
                   "suggestion(skip_begin=...) with a smaller skip_begin.")
        elif self.stop_reason.startswith("data ran out"):
            fix = ("The training data yielded no more batches: check that train_dataloader() returns a re-iterable "
                   "loader with at least one batch, or lower num_training.")
        elif self.stop_reason.startswith("interrupted"):
            fix = "The finder was interrupted: run it again to the end."
        elif total and finite < window:
            fix = ("Many losses are NaN or infinite: check the data and the loss, lower max_lr, or use "
                   "precision=32.")
        else:
            fix = f"Raise num_training (now {self.num_training}) or lower skip_begin/skip_end."
        return f"{head} {fix}"

    # --- plot -----------------------------------------------------------------------------------------------
    def plot(self, suggest: bool = False, show: bool = False, ax: Any = None) -> Any:
        """Loss against lr as a matplotlib Figure (log x-axis for the exponential sweep); needs matplotlib.

        Args:
            suggest: mark the suggested lr with a red dot.
            show: call ``plt.show()``.
            ax: draw into this Axes instead of a new figure.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as err:
            raise ModuleNotFoundError(
                "LRFinder.plot() needs matplotlib, which is not installed. Install it with `pip install "
                "matplotlib`, or read the curve from finder.results['lr'] and finder.results['loss'].") from err
        fig, ax = (plt.subplots() if ax is None else (ax.figure, ax))
        lrs, losses = self.results["lr"], self.results["loss"]
        ax.plot(lrs, losses)
        if self.mode == "exponential":
            ax.set_xscale("log")
        ax.set_xlabel("Learning rate")
        ax.set_ylabel("Loss (smoothed)")
        if suggest:
            lr = self.suggestion()
            if lr is not None and self._optimal_idx is not None:
                ax.plot(lr, losses[self._optimal_idx], markersize=10, marker="o", color="red")
        if show:
            plt.show()
        return fig


def sweep_lrs(mode: str, min_lr: float, max_lr: float, num_training: int) -> list[float]:
    """The lr of each sweep step, as Lightning 1.x schedules it.

    Step 0 uses ``min_lr``; step k >= 1 uses the lr at fraction (k + 1) / N of the way from ``min_lr`` to ``max_lr``
    (in log-lr for "exponential", in lr for "linear"), so the 1/N point is skipped and the last step uses exactly
    ``max_lr``. ``min_lr > max_lr`` sweeps downwards, as in 1.5.

    Examples:
        >>> sweep_lrs("linear", 0.0, 1.0, 4)
        [0.0, 0.5, 0.75, 1.0]
    """
    lrs = [float(min_lr)]
    for k in range(1, num_training):
        fraction = (k + 1) / num_training
        if mode == "exponential":
            lrs.append(float(min_lr * (max_lr / min_lr) ** fraction))
        else:
            lrs.append(float(min_lr + fraction * (max_lr - min_lr)))
    if num_training > 1:
        lrs[-1] = float(max_lr)  # exact, whatever the rounding of the power
    return lrs


class _Sweep:
    """A per-step scheduler that walks the param groups through the precomputed lrs."""

    def __init__(self, optimizer: torch.optim.Optimizer, lrs: list[float]) -> None:
        self.optimizer = optimizer
        self.lrs = lrs
        self.index = 0
        self._apply()

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] = self.lrs[self.index]

    def step(self) -> None:
        self.index = min(self.index + 1, len(self.lrs) - 1)
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"index": self.index}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.index = int(state["index"])
        self._apply()


class _LRFinderCallback(SessionCallback):
    """Installs the sweep, records a point per optimizer step, stops on divergence or when the data runs out."""

    def __init__(self, finder: LRFinder, early_stop_threshold: float | None) -> None:
        self.finder = finder
        self.threshold = early_stop_threshold
        self.lrs = sweep_lrs(finder.mode, finder.lr_min, finder.lr_max, finder.num_training)
        self._optimizer: torch.optim.Optimizer | None = None
        self._avg = 0.0
        self._finite = 0
        self._best = math.inf
        self._window: Any = None
        self._window_len = 0
        self._step_before = 0
        self._lr = 0.0
        self._epoch_points = 0
        self._stopped = False

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        super().on_fit_start(trainer, pl_module)
        if len(trainer.optimizers) != 1:
            found = len(trainer.optimizers)
            raise MisconfigurationError(
                f"The learning-rate finder works with exactly one optimizer; configure_optimizers returned {found}. "
                "Return a single optimizer while tuning (for example behind a flag in the model), or tune each "
                "optimizer's lr by hand.")
        from trainer_core.trainer.optimizers import scheduler_config

        optimizer = trainer.optimizers[0]
        self._optimizer = optimizer
        config = scheduler_config({"scheduler": _Sweep(optimizer, self.lrs), "interval": "step"})
        config["opt_idx"] = 0
        trainer.lr_schedulers = [config]

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._epoch_points = 0

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        self._step_before = trainer.global_step
        assert self._optimizer is not None
        self._lr = self._optimizer.param_groups[0]["lr"]

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        loss = _loss_of(outputs)
        if loss is not None:
            # Summed on the device; read once per optimizer step (one host sync per recorded point).
            self._window = loss if self._window is None else self._window + loss
            self._window_len += 1
        if trainer.global_step == self._step_before:
            return  # accumulating gradients: no optimizer step, no point
        value = float(self._window) / self._window_len if self._window_len else math.nan
        self._window, self._window_len = None, 0
        self._record(trainer, pl_module, value)

    def _record(self, trainer: Any, pl_module: Any, loss: float) -> None:
        finder, step = self.finder, len(self.finder.results["lr"])
        if math.isfinite(loss):
            self._avg = BETA * self._avg + (1 - BETA) * loss
            self._finite += 1
            smoothed = self._avg / (1 - BETA ** self._finite)
        else:
            smoothed = math.nan
        finder.results["lr"].append(self._lr)
        finder.results["loss"].append(smoothed)
        finder.raw_losses.append(loss)
        self._epoch_points += 1
        session = self.session
        assert session is not None
        session.emit("on_lr_find_point", {"step": step, "lr": self._lr, "loss": loss, "smoothed_loss": smoothed})
        if session.interrupted:
            self._stop(trainer)
            return
        if self.threshold is None:
            return
        diverged = not math.isfinite(smoothed) or (step > 1 and smoothed > self.threshold * self._best)
        if diverged:
            finder.stop_reason = f"diverged at step {step}"
            self._stop(trainer)
        elif smoothed < self._best:
            self._best = smoothed

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self._epoch_points == 0 and not self._stopped:
            self.finder.stop_reason = f"data ran out after {len(self.finder.results['lr'])} steps"
            self._stop(trainer)

    def _stop(self, trainer: Any) -> None:
        self._stopped = True
        trainer.should_stop = True


def _loss_of(outputs: Any) -> torch.Tensor | None:
    """The step loss from what ``on_train_batch_end`` receives (dict, TBPTT/multi-split list, tensor or None)."""
    if isinstance(outputs, dict):
        loss = outputs.get("loss")
        return loss.detach().float() if isinstance(loss, torch.Tensor) else None
    if isinstance(outputs, torch.Tensor):
        return outputs.detach().float()
    if isinstance(outputs, (list, tuple)):
        parts = [p for p in (_loss_of(o) for o in outputs) if p is not None]
        return torch.stack(parts).mean() if parts else None
    return None


def lr_find(session: TuningSession, min_lr: float = 1e-8, max_lr: float = 1.0, num_training: int = 100,
            mode: str = "exponential", early_stop_threshold: float | None = 4.0) -> LRFinder:
    """Run the sweep inside an open :class:`TuningSession` and return what it recorded."""
    _check_args(min_lr, max_lr, num_training, mode, early_stop_threshold)
    finder = LRFinder(mode, float(min_lr), float(max_lr), int(num_training))
    callback = _LRFinderCallback(finder, early_stop_threshold)
    session.run(callback, max_steps=num_training)
    points = len(finder.results["lr"])
    if session.interrupted:
        finder.stop_reason = f"interrupted after {points} steps"
    elif points < num_training and finder.stop_reason == "finished":
        finder.stop_reason = f"data ran out after {points} steps"
    log.info("LR finder: %d of %d steps (%s)", points, num_training, finder.stop_reason)
    return finder


def _check_args(min_lr: float, max_lr: float, num_training: int, mode: str,
                early_stop_threshold: float | None) -> None:
    if mode not in MODES:
        raise MisconfigurationError(f"lr_find mode={mode!r} is not known; use \"exponential\" or \"linear\".")
    if not (isinstance(num_training, int) and num_training >= 1):
        raise MisconfigurationError(f"lr_find num_training={num_training!r} must be a positive int (e.g. 100).")
    # min_lr > max_lr is a downward sweep (1.5 runs it); only values no optimizer accepts are refused.
    if mode == "exponential" and not (min_lr > 0 and max_lr > 0):
        raise MisconfigurationError(
            f"lr_find needs min_lr > 0 and max_lr > 0 for the exponential sweep (it is uniform in log-lr); got "
            f"min_lr={min_lr}, max_lr={max_lr}. Use mode=\"linear\" to start from 0.")
    if not (min_lr >= 0 and max_lr >= 0):
        raise MisconfigurationError(f"lr_find needs min_lr >= 0 and max_lr >= 0; got min_lr={min_lr}, "
                                    f"max_lr={max_lr}.")
    if early_stop_threshold is not None and not early_stop_threshold > 0:
        raise MisconfigurationError(
            f"early_stop_threshold={early_stop_threshold!r} must be positive (e.g. 4.0) or None to never stop early.")
