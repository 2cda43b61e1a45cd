"""A Logger that keeps everything it is given in memory, for tests that check what reached the logger."""

from __future__ import annotations

from typing import Any

from trainer_core.loggers import Logger

__all__ = ["ListLogger"]


class ListLogger(Logger):
    """Keeps every ``(step, metrics)`` row, the last hyperparameters and the order of ``finalize`` calls.

    Args:
        events: A list shared with the test, to which ``finalize:<status>`` is appended (to check its order against
            hooks the test records in the same list).
    """

    def __init__(self, events: list[str] | None = None) -> None:
        super().__init__()
        self.rows: list[tuple[int | None, dict[str, float]]] = []
        self.hparams: dict[str, Any] = {}
        self.events = events if events is not None else []

    @property
    def name(self) -> str:
        return "list"

    @property
    def version(self) -> int:
        return 0

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.rows.append((step, dict(metrics)))

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        self.hparams = dict(params)

    def finalize(self, status: str) -> None:
        self.events.append(f"finalize:{status}")

    def keys(self) -> set[str]:
        """Every metric name any row held."""
        return {key for _, row in self.rows for key in row}

    def series(self, key: str) -> list[float]:
        """The values logged under ``key``, in order."""
        return [row[key] for _, row in self.rows if key in row]
