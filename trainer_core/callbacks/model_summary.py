"""ModelSummary callback: print the weights summary table when ``fit`` starts (rank 0 only).

``Trainer(weights_summary="top")`` (the default) adds ``ModelSummary(max_depth=1)``; ``"full"`` adds
``ModelSummary(max_depth=-1)``; ``weights_summary=None`` / ``enable_model_summary=False`` adds none.

Examples:
    >>> from trainer_core.callbacks.model_summary import ModelSummary
    >>> callback = ModelSummary(max_depth=2)
    >>> callback.max_depth
    2
"""

from __future__ import annotations

from typing import Any

from trainer_core.callback import Callback
from trainer_core.utilities.model_summary import ModelSummaryTable, summarize

__all__ = ["ModelSummary"]


class ModelSummary(Callback):
    """Print the model's layers, parameter counts and estimated size at the start of ``fit``.

    The same data goes to the studio: when the trainer offers a ``_call_telemetry`` hook, it is called as
    ``_call_telemetry("on_model_summary", summary_dict)`` with :meth:`ModelSummaryTable.to_dict`.

    Args:
        max_depth: 1 lists the direct children ("top"), -1 every submodule ("full"), 0 prints nothing.

    Raises:
        ValueError: If ``max_depth`` is not an int >= -1.
    """

    def __init__(self, max_depth: int = 1) -> None:
        if not isinstance(max_depth, int) or isinstance(max_depth, bool) or max_depth < -1:
            raise ValueError(f"ModelSummary(max_depth={max_depth!r}) must be an int >= -1 (-1 lists every layer).")
        self.max_depth = max_depth
        self.last_summary: ModelSummaryTable | None = None

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        # max_depth=0 turns the summary off (as in 1.x); other ranks stay quiet.
        if self.max_depth == 0 or not getattr(trainer, "is_global_zero", True):
            return
        table = summarize(pl_module, max_depth=self.max_depth, precision=getattr(trainer, "precision", 32))
        self.last_summary = table
        print(table)
        telemetry = getattr(trainer, "_call_telemetry", None)
        if callable(telemetry):
            telemetry("on_model_summary", table.to_dict())
