"""Saved checkpoints with the monitored score at the moment each was written, and which one is best.

``checkpoint_saved`` events carry path, kind, epoch and step, and for a ModelCheckpoint that monitors a metric its
monitor, mode, score and best file at that moment. The score comes from, in order: a ``score`` field in the event,
``monitor=value`` in the file name, or the monitored metric's latest value in the validation summary
(``epoch_finished`` of stage validate) that preceded the event. The monitor is the events' ``monitor``, the
ModelCheckpoint ``monitor`` of the run config, or ``val_loss`` when the run logged it.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["CheckpointRow", "checkpoint_rows", "monitor_of", "saved_at"]


@dataclass
class CheckpointRow:
    """One checkpoint file."""

    path: str
    kind: str
    epoch: int | None
    step: int | None
    monitor: str | None
    score: float | None
    best: bool = False

    @property
    def exists(self) -> bool:
        """True when the file is still on disk."""
        return os.path.isfile(self.path)


def monitor_of(config: dict[str, Any] | None) -> tuple[str | None, str]:
    """(monitor, mode) of the first ModelCheckpoint in a run config's callbacks, else (None, "min")."""
    trainer = (config or {}).get("trainer") or (config or {}).get("trainer_flags") or {}
    for callback in trainer.get("callbacks") or []:
        if isinstance(callback, dict) and "ModelCheckpoint" in str(callback.get("class_path", "")):
            args = callback.get("init_args") or {}
            if args.get("monitor"):
                return str(args["monitor"]), str(args.get("mode") or "min")
    return None, "min"


def saved_at(path: str, epoch: int | None, step: int | None) -> tuple[int | None, int | None]:
    """(epoch, step) of a checkpoint: the ``epoch=N``/``step=M`` of its file name when present, else the event's.

    The recorder notices a checkpoint at the next epoch or validation end, so the event's own epoch/step can be one
    epoch late; the default file name states when it was written.
    """
    name = os.path.basename(path)
    found_epoch = re.search(r"epoch=(\d+)", name)
    found_step = re.search(r"step=(\d+)", name)
    return (int(found_epoch.group(1)) if found_epoch else epoch, int(found_step.group(1)) if found_step else step)


def _from_name(path: str, monitor: str | None) -> float | None:
    name = os.path.basename(path)
    if monitor:
        match = re.search(re.escape(monitor) + r"=(-?[0-9.]+(?:e-?\d+)?)", name)
        if match:
            return float(match.group(1).rstrip("."))
    return None


def checkpoint_rows(events: list[dict[str, Any]], config: dict[str, Any] | None = None) -> list[CheckpointRow]:
    """Rows for every ``checkpoint_saved`` in ``events``, best one marked.

    Monitor and mode come from the checkpoint callback's own state as the events report it (a ModelCheckpoint made
    in ``configure_callbacks`` is not in the run config), then from the config's ModelCheckpoint, then ``val_loss``
    (lower is better) when the run logged it. A checkpoint written outside the callback (the studio's stop
    checkpoint) is scored on the run's monitor too, so every row is ranked on one metric. The best row is the file
    the callback itself last named best; for older runs without that, the best score in the callback's direction.
    A file no longer on disk is not marked best while others are. A file written again (``last.ckpt``) keeps its
    newest epoch/step.

    The score of a checkpoint without one in its event or name is the monitored value of the last validation
    summary (``epoch_finished`` of stage validate) at or before the step the checkpoint was written.
    """
    saved = [e for e in events if e.get("type") == "checkpoint_saved" and e.get("path")]
    config_monitor, config_mode = monitor_of(config)
    reported = [e for e in saved if e.get("monitor")]
    monitor = reported[-1]["monitor"] if reported else config_monitor
    mode = next((str(e["mode"]) for e in reversed(reported) if e.get("mode")), None) or (
        config_mode if monitor == config_monitor else "min")
    summaries: list[tuple[float, dict[str, float]]] = []
    for event in events:
        if event.get("type") == "epoch_finished" and event.get("stage") == "validate":
            values = {}
            for name, value in (event.get("metrics") or {}).items():
                try:
                    values[name] = float(value)
                except (TypeError, ValueError):
                    continue
            summaries.append((float(event.get("step") or 0), values))
    summaries.sort(key=lambda item: item[0])
    if monitor is None and any("val_loss" in values for _, values in summaries):
        monitor = "val_loss"
    rows: list[CheckpointRow] = []
    for event in saved:
        epoch, step = saved_at(str(event["path"]), event.get("epoch"), event.get("step"))
        before = [values for at, values in summaries if step is None or at <= step]
        seen = before[-1] if before else {}
        name = event.get("monitor") or monitor
        score = event.get("score") if event.get("monitor") == name else None
        if score is None:
            score = _from_name(event["path"], name)
        if score is None and name in seen:
            score = seen[name]
        row = CheckpointRow(str(event["path"]), str(event.get("kind") or ""), epoch, step, name,
                            None if score is None else float(score))
        rows = [r for r in rows if r.path != row.path] + [row]
    # Top-k deletes files the callback no longer keeps: only files on disk can be best (all of them count when
    # none is, e.g. a run folder opened after it moved).
    on_disk = {r.path for r in rows if r.exists} or {r.path for r in rows}
    named_best = next((str(e["best_path"]) for e in reversed(saved) if e.get("best_path")), None)
    marked = next((r for r in rows if r.path == named_best and r.path in on_disk), None)
    if marked is None:
        scored = [r for r in rows if r.score is not None and math.isfinite(r.score) and r.kind != "last"
                  and r.monitor == monitor and r.path in on_disk]
        if scored:
            pick = max if mode == "max" else min
            marked = pick(scored, key=lambda r: r.score)
    if marked is not None:
        marked.best = True
    return rows
