"""One sentence saying what a finished Debug run ran and what it found, for the status strip.

A finished Debug run showed only "FINISHED debug" and a metric or two: whether fast_dev_run passed, whether the
model overfitted the few batches, or what the batch-independence check answered (printed to the Console only) was
left for the user to work out.
"""

from __future__ import annotations

import math
from typing import Any

from studio.models.run_state import RunModel, RunStatus

__all__ = ["debug_kind", "debug_summary"]


def debug_kind(model: RunModel) -> str | None:
    """Which Debug check ``model``'s run was (``fast_dev_run``, ``overfit_batches``, ...); None for other modes."""
    if model.mode != "debug":
        return None
    started = model.extras.get("run_started") or []
    config: dict[str, Any] = (started[-1].get("config") or {}) if started else {}
    return str(config.get("debug") or "fast_dev_run")


def _flag(model: RunModel, name: str) -> Any:
    started = model.extras.get("run_started") or []
    flags = ((started[-1].get("config") or {}).get("trainer_flags") or {}) if started else {}
    return flags.get(name)


def _loss_trend(model: RunModel) -> str:
    """``train_loss went from 1.1 to 0.0059`` from the first and last logged training loss, else ""."""
    for name in ("train_loss", "train_loss_step", "loss", "train_loss_epoch"):
        series = model.metrics.get(name)
        if series is None:
            continue
        _, y = series.view()
        finite = [float(v) for v in y if math.isfinite(float(v))]
        if len(finite) >= 2:
            return f"{name} went from {finite[0]:.3g} to {finite[-1]:.3g}"
    return ""


def _console_answer(model: RunModel) -> str:
    """The batch-independence check's sentence (the child prints it; it names the model and "batch")."""
    for _, text in reversed(model.console):
        if "batch" in text and ("sample" in text or "mix" in text):
            return text.strip()
    return ""


def debug_summary(model: RunModel) -> str:
    """What a finished Debug run ran and found, in one or two sentences; "" for anything else."""
    kind = debug_kind(model)
    if kind is None or model.status != RunStatus.FINISHED:
        return ""  # a failed check already says its error
    if kind == "batch_independence":
        independent = model.latest.get("batch_independent")
        answer = _console_answer(model)
        if answer:
            return f"Batch independence check: {answer}"
        if independent is None:
            return "Batch independence check finished; its answer is in the Console."
        verdict = "keeps the samples of a batch apart" if independent >= 0.5 else "MIXES samples across the batch"
        return f"Batch independence check: the model {verdict} (details in the Console)."
    if kind == "overfit_batches":
        batches = _flag(model, "overfit_batches") or 1
        if isinstance(batches, (int, float)) and 0 < batches < 1:
            what = f"{batches:.0%} of the training batches"
        else:
            what = f"{batches} training batch(es)"
        trend = _loss_trend(model)
        found = (f"; {trend} (near 0 means the model can learn; a loss that stays high points at the model, the "
                 "loss or the learning rate)") if trend else ""
        return f"overfit_batches: trained and validated on the same {what}{found}."
    batches = _flag(model, "fast_dev_run")
    count = batches if isinstance(batches, int) and not isinstance(batches, bool) and batches > 1 else 1
    return (f"fast_dev_run passed: {count} batch(es) of each loop ran without an error. It is a smoke test: "
            "no checkpoint or log folder was written, and its metrics are from those batches only.")
