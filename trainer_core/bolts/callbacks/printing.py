"""PrintTableMetricsCallback: the metrics of every epoch so far, printed as a table after each training epoch."""

from __future__ import annotations

from typing import Any

from trainer_core.callback import Callback
from trainer_core.loggers.base import rank_zero_only
from trainer_core.telemetry.events import to_float

__all__ = ["PrintTableMetricsCallback", "dicts_to_table"]


def dicts_to_table(dicts: list[dict[str, Any]], keys: list[str] | None = None) -> str:
    """A plain-text table: one column per key (first-seen order), one row per dict; missing values blank."""
    if keys is None:
        keys = []
        for row in dicts:
            keys.extend(key for key in row if key not in keys)
    cells = [[_cell(row.get(key)) for key in keys] for row in dicts]
    widths = [max([len(key)] + [len(line[i]) for line in cells]) for i, key in enumerate(keys)]
    header = " | ".join(key.ljust(width) for key, width in zip(keys, widths, strict=True))
    rule = "-+-".join("-" * width for width in widths)
    body = [" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) for line in cells]
    return "\n".join([header, rule, *body])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class PrintTableMetricsCallback(Callback):
    """After each training epoch, print a table of ``trainer.callback_metrics`` for every epoch so far.

    ``metrics_dicts`` keeps one dict of floats per epoch (read once per epoch, not per step).
    """

    def __init__(self) -> None:
        self.metrics_dicts: list[dict[str, Any]] = []

    def on_train_epoch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        metrics = {}
        for key, value in trainer.callback_metrics.items():
            number = to_float(value)
            metrics[key] = number if number is not None else value
        self.metrics_dicts.append(metrics)
        self._print()

    @rank_zero_only
    def _print(self) -> None:
        print(dicts_to_table(self.metrics_dicts))
