"""EarlyStopping: stop training when a monitored metric stops improving (Lightning 1.5 semantics).

``patience`` counts *checks*, not epochs: with ``check_val_every_n_epoch=10`` and ``patience=3`` training runs at
least 40 epochs. The Trainer still enforces ``min_epochs``/``min_steps``; a stop request made before they are reached
is deferred by the Trainer, not here.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from trainer_core.callback import Callback
from trainer_core.callbacks._common import log, reduce_decision, should_skip_decisions
from trainer_core.exceptions import MisconfigurationError

__all__ = ["EarlyStopping"]

_LEGACY_MONITOR = "early_stop_on"


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` checks.

    Args:
        monitor: key of ``trainer.callback_metrics`` to watch (log it with ``self.log``).
        min_delta: smallest change that counts as an improvement (its sign is ignored).
        patience: number of checks without improvement after which training stops.
        verbose: log each decision.
        mode: ``"min"`` (lower is better) or ``"max"``.
        strict: raise when ``monitor`` is missing from the metrics; otherwise skip the check.
        check_finite: stop when the metric becomes NaN or infinite.
        stopping_threshold: stop as soon as the metric is better than this value.
        divergence_threshold: stop as soon as the metric is worse than this value.
        check_on_train_epoch_end: check at the end of the training epoch (True) or after each validation run
            (False). None: at the training epoch end when validation runs exactly once per epoch.

    Examples:
        >>> es = EarlyStopping(monitor="val_loss", patience=2)
        >>> es.state_key
        "EarlyStopping{'monitor': 'val_loss', 'mode': 'min'}"
    """

    mode_dict = {"min": torch.lt, "max": torch.gt}
    order_dict = {"min": "<", "max": ">"}

    def __init__(
        self,
        monitor: str | None = None,
        min_delta: float = 0.0,
        patience: int = 3,
        verbose: bool = False,
        mode: str = "min",
        strict: bool = True,
        check_finite: bool = True,
        stopping_threshold: float | None = None,
        divergence_threshold: float | None = None,
        check_on_train_epoch_end: bool | None = None,
    ) -> None:
        if monitor is None:
            warnings.warn(
                f"EarlyStopping(monitor=None) falls back to the 1.x key {_LEGACY_MONITOR!r}; pass the name of a "
                "metric you log with self.log(...), e.g. EarlyStopping(monitor='val_loss').",
                DeprecationWarning,
                stacklevel=2,
            )
            monitor = _LEGACY_MONITOR
        if mode not in self.mode_dict:
            raise MisconfigurationError(
                f"EarlyStopping(mode={mode!r}) is not supported: use mode='min' (lower is better) or mode='max'."
            )
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise MisconfigurationError(
                f"EarlyStopping(patience={patience!r}) is invalid: pass an integer >= 0 (number of checks)."
            )
        self.monitor = monitor
        self.min_delta = abs(float(min_delta))
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.strict = strict
        self.check_finite = check_finite
        self.stopping_threshold = stopping_threshold
        self.divergence_threshold = divergence_threshold
        self._check_on_train_epoch_end = check_on_train_epoch_end
        self.wait_count = 0
        self.stopped_epoch = 0
        # Why this callback stopped the run, for run summaries (the CLI's last lines, the studio's status).
        self.stop_reason: str | None = None
        self._best_at: str | None = None  # "epoch E, global step S" of the best score, for the stop reason
        self.best_score = torch.tensor(math.inf if mode == "min" else -math.inf)

    # --- identity and state ---------------------------------------------------------------------------------
    @property
    def state_key(self) -> str:
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    @property
    def monitor_op(self) -> Any:
        return self.mode_dict[self.mode]

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {
            "wait_count": self.wait_count,
            "stopped_epoch": self.stopped_epoch,
            "best_score": self.best_score,
            "patience": self.patience,
        }

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
        self.wait_count = int(callback_state["wait_count"])
        self.stopped_epoch = int(callback_state["stopped_epoch"])
        self.best_score = torch.as_tensor(callback_state["best_score"]).detach().cpu()
        self.patience = int(callback_state["patience"])

    # --- when to check --------------------------------------------------------------------------------------
    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        if self._check_on_train_epoch_end is None:
            # Check where the metric is freshest: at the epoch end when validation runs once per epoch at its end.
            self._check_on_train_epoch_end = (
                getattr(trainer, "val_check_interval", 1.0) == 1.0
                and getattr(trainer, "check_val_every_n_epoch", 1) == 1
            )

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._check_on_train_epoch_end or should_skip_decisions(trainer):
            return
        self._run_early_stopping_check(trainer)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if self._check_on_train_epoch_end or should_skip_decisions(trainer):
            return
        self._run_early_stopping_check(trainer)

    # --- the decision ---------------------------------------------------------------------------------------
    def _validate_condition_metric(self, logs: dict[str, Any]) -> bool:
        if self.monitor in logs:
            return True
        message = (
            f"EarlyStopping is conditioned on metric {self.monitor!r}, which is not available. Available metrics: "
            f"{sorted(logs) or 'none logged yet'}. Log it with self.log({self.monitor!r}, value) or pass one of "
            "the available names as EarlyStopping(monitor=...)."
        )
        if self.strict:
            raise RuntimeError(message)
        if self.verbose:
            warnings.warn(message + " (strict=False: this check is skipped)", RuntimeWarning, stacklevel=2)
        return False

    def _run_early_stopping_check(self, trainer: Any) -> None:
        logs = trainer.callback_metrics
        if not self._validate_condition_metric(logs):
            return
        current = torch.as_tensor(logs[self.monitor]).detach().squeeze().float().cpu()
        best_before = self.best_score
        should_stop, reason = self._evaluate_stopping_criteria(current)
        if self.best_score is not best_before:
            self._best_at = f"epoch {trainer.current_epoch}, global step {trainer.global_step}"
        should_stop = reduce_decision(trainer, should_stop)  # any rank asking stops every rank
        trainer.should_stop = bool(trainer.should_stop) or should_stop
        where = f"(epoch {trainer.current_epoch}, global step {trainer.global_step})"
        if should_stop:
            self.stopped_epoch = int(trainer.current_epoch)
            why = (reason or "another rank's EarlyStopping asked to stop").replace(" Signaling Trainer to stop.", "")
            if self._best_at and "did not improve" in why:
                # Name both points: where the best score was reached and where patience ran out.
                where = f"(best at {self._best_at}; stopped at {where[1:-1]})"
            self.stop_reason = f"{why.rstrip('.')} {where}"
        if reason and should_stop and trainer.is_global_zero and (self.verbose or not math.isfinite(float(current))):
            # A non-finite metric always says so: the user must learn which metric and when, not only that it stopped.
            log.warning(f"{reason} {where}")
        elif reason and self.verbose:
            log.info(reason)

    def _evaluate_stopping_criteria(self, current: torch.Tensor) -> tuple[bool, str | None]:
        """Apply Lightning 1.5's rules in its order; the first rule that matches decides.

        The order: a non-finite value, the stopping threshold, the divergence threshold, an improvement (resets the
        patience count), then patience running out.
        """
        value = float(current)
        if self.check_finite and not math.isfinite(value):
            return True, (
                f"Monitored metric {self.monitor} = {value} is not finite. Previous best value was "
                f"{float(self.best_score):.3f}. Signaling Trainer to stop."
            )
        order = self.order_dict[self.mode]
        if self.stopping_threshold is not None and self.monitor_op(current, self.stopping_threshold):
            return True, (
                f"Stopping threshold reached: {self.monitor} = {value} {order} {self.stopping_threshold}. "
                "Signaling Trainer to stop."
            )
        if self.divergence_threshold is not None and self.monitor_op(-current, -self.divergence_threshold):
            return True, (
                f"Divergence threshold reached: {self.monitor} = {value} {order} {self.divergence_threshold}. "
                "Signaling Trainer to stop."
            )
        signed_delta = self.min_delta if self.mode == "max" else -self.min_delta
        if self.monitor_op(current - signed_delta, self.best_score):
            reason = self._improvement_message(value)
            self.best_score = current
            self.wait_count = 0
            return False, reason
        self.wait_count += 1
        if self.wait_count >= self.patience:
            return True, (
                f"Monitored metric {self.monitor} did not improve in the last {self.wait_count} records. "
                f"Best score: {float(self.best_score):.3f}. Signaling Trainer to stop."
            )
        return False, None

    def _improvement_message(self, value: float) -> str:
        best = float(self.best_score)
        if math.isfinite(best):
            return (
                f"Metric {self.monitor} improved by {abs(best - value):.3f} >= min_delta = {self.min_delta}. "
                f"New best score: {value:.3f}"
            )
        return f"Metric {self.monitor} improved. New best score: {value:.3f}"
