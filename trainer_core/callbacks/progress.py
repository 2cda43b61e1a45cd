"""ProgressBar: the console progress bar (tqdm), Lightning 1.x layout.

Bars: ``Epoch N`` (train batches plus the validation batches run in that epoch), ``Validating``, ``Testing``,
``Predicting`` and ``Validation sanity check``. The postfix shows ``loss`` (mean of the last 20 training losses),
``v_num``, ``split_idx`` (TBPTT) and every metric logged with ``prog_bar=True``.

Speed: a redraw happens only every ``refresh_rate`` batches (and at most ten times a second), and only a redraw
reads values to the host (one ``.item()`` for the running loss plus the trainer's progress-bar metrics), so the
batches in between cause no device synchronisation.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections import deque
from typing import Any

import torch
from tqdm import tqdm

from trainer_core.callbacks.progress_base import ProgressBarBase, SwitchedProgressBar

__all__ = ["ProgressBar", "ProgressBarBase", "TQDMProgressBar"]

_RUNNING_LOSS_WINDOW = 20


def _total(value: Any) -> int | None:
    """tqdm's total: None for unknown or infinite lengths."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        parts = [_total(v) for v in value]
        return None if any(p is None for p in parts) else sum(parts)  # type: ignore[arg-type]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value)


def _losses_in(outputs: Any) -> list[torch.Tensor]:
    """The detached loss tensors in a step's outputs (a tensor, a dict with "loss", or a list of those)."""
    if isinstance(outputs, dict):
        outputs = outputs.get("loss")
    if isinstance(outputs, torch.Tensor):
        if outputs.dim() != 0 and outputs.numel() != 1:
            return []
        return [outputs.detach() if outputs.requires_grad else outputs]
    if isinstance(outputs, (list, tuple)):  # TBPTT splits / several optimizers
        return [loss for item in outputs for loss in _losses_in(item)]
    return []


class ProgressBar(SwitchedProgressBar):
    """A tqdm progress bar for fit, validate, test and predict.

    Args:
        refresh_rate: redraw every ``refresh_rate`` batches; 0 disables the bar.
        process_position: line offset, for several trainers sharing one terminal.

    Examples:
        >>> bar = ProgressBar(refresh_rate=10)
        >>> bar.is_enabled
        True
    """

    #: A terminal cannot show more than ~10 redraws a second; skipping the others keeps ``refresh_rate=1`` cheap.
    min_redraw_interval_s: float = 0.1
    #: Set once the "a prog_bar metric replaces the bar's own value" warning was given.
    _warned_clash = False
    # Decided when an epoch starts, read per batch: the epoch's training batches (tqdm's form) and whether the
    # loop's outputs hold the losses (automatic optimization).
    _train_total: int | None = None
    _collect_losses = True

    def __init__(self, refresh_rate: int = 1, process_position: int = 0) -> None:
        if isinstance(refresh_rate, bool) or not isinstance(refresh_rate, int) or refresh_rate < 0:
            raise ValueError(f"ProgressBar(refresh_rate={refresh_rate!r}) is invalid: use an integer >= 0 (0 = off).")
        self._rate = refresh_rate
        self._process_position = process_position
        self.main_progress_bar: tqdm | None = None
        self.val_progress_bar: tqdm | None = None
        self.test_progress_bar: tqdm | None = None
        self.predict_progress_bar: tqdm | None = None
        self._losses: deque[torch.Tensor] = deque(maxlen=_RUNNING_LOSS_WINDOW)
        self._train_seen = 0
        self._eval_seen = 0
        self._main_n = 0
        self._last_draw = -math.inf

    # --- switches -------------------------------------------------------------------------------------------
    @property
    def refresh_rate(self) -> int:
        return self._rate

    @property
    def process_position(self) -> int:
        return self._process_position

    def print(self, *args: Any, sep: str = " ", end: str = os.linesep) -> None:
        """Print a line above the bars without breaking them."""
        tqdm.write(sep.join(map(str, args)), end=end, file=sys.stdout)

    # --- bars -----------------------------------------------------------------------------------------------
    def _bar(self, desc: str, total: int | None, offset: int, leave: bool) -> tqdm:
        return tqdm(
            desc=desc,
            total=total,
            position=2 * self._process_position + offset,
            disable=self.is_disabled,
            leave=leave,
            dynamic_ncols=True,
            file=sys.stdout,
            smoothing=0,
        )

    def _should_update(self, seen: int, total: int | None) -> bool:
        """Redraw every ``refresh_rate`` batches and on the last one, but at most every ``min_redraw_interval_s``."""
        if not self.is_enabled or (seen % self._rate != 0 and seen != total):
            return False
        now = time.monotonic()
        if seen != total and now - self._last_draw < self.min_redraw_interval_s:
            return False
        self._last_draw = now
        return True

    @staticmethod
    def _advance(bar: tqdm | None, n: int) -> None:
        if bar is not None and not bar.disable and n > bar.n:
            bar.update(n - bar.n)

    @staticmethod
    def _close(bar: tqdm | None) -> None:
        if bar is not None:
            bar.close()

    # --- numbers the bars show ------------------------------------------------------------------------------
    def total_val_batches_this_epoch(self, trainer: Any) -> int | None:
        """Validation batches the current training epoch will run (0 when it does not validate)."""
        val = _total(getattr(trainer, "num_val_batches", None))
        if not val:
            return 0 if val == 0 else None
        every = getattr(trainer, "check_val_every_n_epoch", 1)
        if every is not None and (trainer.current_epoch + 1) % every != 0:
            return 0
        train = _total(getattr(trainer, "num_training_batches", None))
        check = getattr(trainer, "val_check_batch", None)
        if train is None or not isinstance(check, int) or check < 1:
            return val
        return val * max(1, train // check)

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        """The postfix: running ``loss``, ``split_idx``, ``v_num`` and the ``prog_bar`` metrics (host values)."""
        items: dict[str, Any] = {}
        if self._losses:
            mean = torch.stack(list(self._losses)).float().mean().item()  # the one sync of this refresh
            items["loss"] = f"{mean:.3g}"
        elif getattr(pl_module, "automatic_optimization", True):
            items["loss"] = "nan"
        truncated = getattr(pl_module, "truncated_bptt_steps", 0) or 0
        if truncated > 0 and getattr(trainer, "split_idx", None) is not None:
            items["split_idx"] = trainer.split_idx
        logger = getattr(trainer, "logger", None)
        version = getattr(logger, "version", None) if logger is not None else None
        if version is not None:
            items["v_num"] = version[-4:] if isinstance(version, str) else version
        logged = getattr(trainer, "progress_bar_metrics", None) or {}
        clash = sorted(items.keys() & logged.keys())
        if clash and not self._warned_clash:
            self._warned_clash = True  # 1.5 warns once: the logged value replaces the bar's own
            warnings.warn(f"The progress bar already tracks a metric with the name(s) {clash}; "
                          f"self.log({clash[0]!r}, ..., prog_bar=True) replaces the bar's value. Log it under another "
                          "name to see both.", UserWarning, stacklevel=2)
        for name, value in logged.items():
            items[name] = value.item() if isinstance(value, torch.Tensor) else value
        return items

    def _set_postfix(self, bar: tqdm | None, trainer: Any, pl_module: Any) -> None:
        if bar is not None and not bar.disable:
            bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)

    # --- sanity check ---------------------------------------------------------------------------------------
    def on_sanity_check_start(self, trainer: Any, pl_module: Any) -> None:
        total = _total(getattr(trainer, "num_sanity_val_batches", None))
        self.val_progress_bar = self._bar("Validation sanity check", total, offset=0, leave=False)
        self._eval_seen = 0

    def on_sanity_check_end(self, trainer: Any, pl_module: Any) -> None:
        self._close(self.val_progress_bar)
        self.val_progress_bar = None

    # --- training -------------------------------------------------------------------------------------------
    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self.main_progress_bar = self._bar("Epoch 0", None, offset=0, leave=True)
        self._losses.clear()

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        train = _total(getattr(trainer, "num_training_batches", None))
        val = self.total_val_batches_this_epoch(trainer)
        total = None if train is None or val is None else train + val
        self._train_seen = 0
        self._main_n = 0
        self._train_total = train
        self._collect_losses = getattr(pl_module, "automatic_optimization", True)
        bar = self.main_progress_bar
        if bar is not None:
            bar.reset(total=total)
            bar.set_description(f"Epoch {trainer.current_epoch}", refresh=False)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        seen = self._train_seen = self._train_seen + 1
        self._main_n += 1
        if self._collect_losses:  # the losses are kept on their device: no sync here
            # Automatic optimization's outputs: {"loss": a detached 0-dim tensor}, appended without a helper call.
            loss = outputs.get("loss") if type(outputs) is dict else None
            if type(loss) is torch.Tensor and loss.ndim == 0 and not loss.requires_grad:
                self._losses.append(loss)
            else:
                self._losses.extend(_losses_in(outputs))
        bar = self.main_progress_bar
        if bar is None:
            return
        # Most batches fall between two time-throttled redraws: for them one clock read here, no method call.
        total = self._train_total
        due = seen == total or time.monotonic() - self._last_draw >= self.min_redraw_interval_s
        if due and self._should_update(seen, total):
            self._set_postfix(bar, trainer, pl_module)
            self._advance(bar, self._main_n)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        bar = self.main_progress_bar
        if bar is not None and self.is_enabled:
            self._set_postfix(bar, trainer, pl_module)
            self._advance(bar, self._main_n)
            bar.refresh()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._close(self.main_progress_bar)
        self.main_progress_bar = None

    # --- evaluation -----------------------------------------------------------------------------------------
    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        total = _total(getattr(trainer, "num_val_batches", None))
        # Inside fit the validation bar sits under the epoch bar and goes away; alone (validate()) it stays.
        inside_fit = self.main_progress_bar is not None
        self.val_progress_bar = self._bar("Validating", total, offset=int(inside_fit), leave=not inside_fit)
        self._eval_seen = 0

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        self._eval_seen += 1
        sanity = getattr(trainer, "sanity_checking", False)
        if not sanity:
            self._main_n += 1
        bar = self.val_progress_bar
        if bar is not None and self._should_update(self._eval_seen, bar.total):
            self._advance(bar, self._eval_seen)
            if not sanity and self.main_progress_bar is not None:
                self._advance(self.main_progress_bar, self._main_n)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        self._close(self.val_progress_bar)
        self.val_progress_bar = None
        if self.main_progress_bar is not None:
            self._set_postfix(self.main_progress_bar, trainer, pl_module)

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        self.test_progress_bar = self._bar("Testing", _total(getattr(trainer, "num_test_batches", None)), 0, True)
        self._eval_seen = 0

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        self._eval_seen += 1
        bar = self.test_progress_bar
        if bar is not None and self._should_update(self._eval_seen, bar.total):
            self._advance(bar, self._eval_seen)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        self._close(self.test_progress_bar)
        self.test_progress_bar = None

    def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
        total = _total(getattr(trainer, "num_predict_batches", None))
        self.predict_progress_bar = self._bar("Predicting", total, 0, True)
        self._eval_seen = 0

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        self._eval_seen += 1
        bar = self.predict_progress_bar
        if bar is not None and self._should_update(self._eval_seen, bar.total):
            self._advance(bar, self._eval_seen)

    def on_predict_end(self, trainer: Any, pl_module: Any) -> None:
        self._close(self.predict_progress_bar)
        self.predict_progress_bar = None

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        for bar in (self.val_progress_bar, self.test_progress_bar, self.predict_progress_bar, self.main_progress_bar):
            self._close(bar)
        self.main_progress_bar = self.val_progress_bar = self.test_progress_bar = self.predict_progress_bar = None


# 1.5's name for the tqdm bar.
TQDMProgressBar = ProgressBar
