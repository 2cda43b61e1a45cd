"""What the empty metric grid says: how to get charts, or where an ended run's results are."""

from __future__ import annotations

from studio.models.run_state import RunModel
from studio.qt.debug_summary import debug_summary

__all__ = ["EMPTY_IDLE", "EMPTY_RUNNING", "empty_hint"]

EMPTY_IDLE = "Press Fit (Ctrl+R) to train: one chart per logged metric appears here."
EMPTY_RUNNING = "Starting the training process: charts appear with the first logged values."



def empty_hint(model: RunModel) -> str:
    """What the empty grid says when no run is going: how to get charts, or where an ended run's results are.

    "Press Fit to train" under a finished Predict or Tune read as "nothing happened": they log no metrics, and
    their results are elsewhere.
    """
    if not model.ended:
        return EMPTY_IDLE
    if model.mode == "predict":
        path = (model.result or {}).get("predictions_path")
        where = f"saved to {path}" if path else "returned by predict_step (none were saved)"
        return f"Predict logs no metrics: the predictions are {where} (also named in the status strip above)."
    if model.mode == "debug" and debug_summary(model):
        return f"{debug_summary(model)} Nothing was logged to chart."
    if model.mode == "tune":
        return ("Tune logs no metrics: its results are in the LR finder and Batch size views, with Apply buttons "
                "that put them into the forms.")
    return (f"This {model.mode or ''} run logged no metrics (self.log in the script's steps draws them here). "
            + EMPTY_IDLE)
