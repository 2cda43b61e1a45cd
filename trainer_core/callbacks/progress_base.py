"""``ProgressBarBase`` (1.5): what a custom progress bar builds on: the trainer, batch counters and totals.

Subclass it and override the hooks you draw in, calling ``super()`` so the counters advance. The trainer treats any
subclass as its progress bar: passing one in ``callbacks`` replaces the default bar.
"""

from __future__ import annotations

import math
import os
from typing import Any

from trainer_core.callback import Callback

__all__ = ["ProgressBarBase", "SwitchedProgressBar"]


def _count(value: Any) -> int | float:
    """A batch count (``inf`` for an unsized loader); a list of counts (one per loader) is summed."""
    if isinstance(value, (list, tuple)):
        return sum(_count(v) for v in value) if value else 0
    if value is None:
        return 0
    return value if isinstance(value, float) and not math.isfinite(value) else int(value)


class ProgressBarBase(Callback):
    """The 1.5 progress-bar base API.

    Attributes read by subclasses: ``trainer``, ``train_batch_idx``, ``val_batch_idx``, ``test_batch_idx``,
    ``predict_batch_idx`` (batches finished in the running loop), ``total_train_batches``, ``total_val_batches``,
    ``total_test_batches``, ``total_predict_batches``; ``enable()``/``disable()``, ``print()`` and
    ``get_metrics(trainer, pl_module)``.
    """

    # Class-level starting values: subclasses need not call ``super().__init__()``.
    _trainer: Any = None
    _val_batch_idx = 0
    _test_batch_idx = 0
    _predict_batch_idx = 0

    @property
    def trainer(self) -> Any:
        return self._trainer

    @property
    def train_batch_idx(self) -> int:
        """Training batches finished in the current epoch."""
        return 0 if self._trainer is None else self._trainer.progress.batches_done_in_epoch

    @property
    def val_batch_idx(self) -> int:
        return self._val_batch_idx

    @property
    def test_batch_idx(self) -> int:
        return self._test_batch_idx

    @property
    def predict_batch_idx(self) -> int:
        return self._predict_batch_idx

    @property
    def total_train_batches(self) -> int | float:
        return 0 if self._trainer is None else _count(self._trainer.num_training_batches)

    @property
    def total_val_batches(self) -> int | float:
        """Validation batches of one validation run (sanity-check batches while sanity checking).

        During fit, 0 in an epoch that does not validate (``check_val_every_n_epoch``), as in 1.5.
        """
        trainer = self._trainer
        if trainer is None:
            return 0
        if trainer.sanity_checking:
            return _count(trainer.num_sanity_val_batches)
        every = getattr(trainer, "check_val_every_n_epoch", 1) or 1
        if trainer.state.stage == "fit" and (trainer.current_epoch + 1) % every != 0:
            return 0
        return _count(trainer.num_val_batches)

    @property
    def total_test_batches(self) -> int | float:
        return 0 if self._trainer is None else _count(self._trainer.num_test_batches)

    @property
    def total_predict_batches(self) -> int | float:
        return 0 if self._trainer is None else _count(self._trainer.num_predict_batches)

    # --- switches -------------------------------------------------------------------------------------------
    def disable(self) -> None:
        """Stop drawing (other ranks than 0 are disabled by the trainer)."""
        raise NotImplementedError

    def enable(self) -> None:
        raise NotImplementedError

    def print(self, *args: Any, sep: str = " ", end: str = os.linesep) -> None:
        """Print without breaking the bar (plain ``print`` here)."""
        print(*args, sep=sep, end=end)

    def get_metrics(self, trainer: Any, pl_module: Any) -> dict[str, Any]:
        """What the bar shows: the ``prog_bar=True`` metrics and the logger version as ``v_num``."""
        metrics: dict[str, Any] = dict(trainer.progress_bar_metrics)
        version = getattr(trainer.logger, "version", None) if trainer.logger is not None else None
        if version is not None:
            metrics["v_num"] = version[-4:] if isinstance(version, str) else version
        return metrics

    # --- counters -------------------------------------------------------------------------------------------
    def on_init_end(self, trainer: Any) -> None:
        self._trainer = trainer

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        self._trainer = trainer

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        self._val_batch_idx = 0

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        self._val_batch_idx += 1

    def on_test_start(self, trainer: Any, pl_module: Any) -> None:
        self._test_batch_idx = 0

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        self._test_batch_idx += 1

    def on_predict_start(self, trainer: Any, pl_module: Any) -> None:
        self._predict_batch_idx = 0

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        self._predict_batch_idx += 1


class SwitchedProgressBar(ProgressBarBase):
    """The on/off switch of the built-in bars: a bar draws while it is enabled and its refresh rate is above 0.

    Subclasses keep their refresh rate (batches per redraw, or redraws per second) in ``_rate``; 0 turns the bar off
    for good, :meth:`disable`/:meth:`enable` switch it for a while (the tuners silence it during their short fits).
    """

    _enabled = True
    _rate: int = 1

    @property
    def is_enabled(self) -> bool:
        return self._enabled and self._rate > 0

    @property
    def is_disabled(self) -> bool:
        return not self.is_enabled

    def disable(self) -> None:
        """Stop drawing until :meth:`enable`."""
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True
