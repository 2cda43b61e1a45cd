"""What the Bolts callbacks share: finding a logger that can take images and histograms."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["experiment_with"]


def experiment_with(trainer: Any, method: str, who: Any) -> Any:
    """The first logger's ``experiment`` when it has ``method`` (``add_image``, ...), else None with one warning.

    The warning names the callback and the fix, once per callback instance, so a run without TensorBoard keeps
    training instead of failing in the middle of an epoch.
    """
    for logger in getattr(trainer, "loggers", None) or []:
        experiment = getattr(logger, "experiment", None)
        if callable(getattr(experiment, method, None)):
            return experiment
    if not getattr(who, "_warned_no_experiment", False):
        who._warned_no_experiment = True
        names = ", ".join(type(logger).__name__ for logger in getattr(trainer, "loggers", None) or []) or "none"
        warnings.warn(f"{type(who).__name__} logs through logger.experiment.{method}, which none of the trainer's "
                      f"loggers ({names}) has; use the default logger (logger=True) or a TensorBoardLogger",
                      UserWarning, stacklevel=3)
    return None
