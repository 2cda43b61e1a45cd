"""Run history: every run folder under a root (studio or command-line runs) summarised from its events.jsonl.

A run folder is any directory holding ``events.jsonl`` (usually ``.../lightning_logs/version_N``). Summaries are
cached by the file's size and modification time, so rescanning a root only reads new or growing runs.

Examples:
    >>> runs = scan_runs("runs")                     # doctest: +SKIP
    >>> runs[0].status, runs[0].monitor, runs[0].best  # doctest: +SKIP
    ('finished', 'val_loss', 0.123)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.models.dashboards.checkpoints import monitor_of
from studio.models.dashboards.run_meta import (
    MetricStats,
    RunMeta,
    default_name,
    load_hparams,
    load_meta,
    metric_stats,
    parent_run,
)
from studio.models.run_state import RunModel, load_events
from studio.protocol.run_end import RunEnd, is_live_run

__all__ = ["RunSummary", "summarize_run", "scan_runs", "load_run", "value_at"]

_SKIP_DIRS = {".git", "__pycache__", "checkpoints", ".studio", "node_modules"}


@dataclass
class RunSummary:
    """One run folder as the history list shows it."""

    path: str
    name: str
    run_id: str | None = None
    mode: str | None = None
    status: str = "unknown"
    started: float | None = None
    duration_s: float | None = None
    monitor: str | None = None
    best: float | None = None
    last: float | None = None
    metric_names: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, MetricStats] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)
    meta: RunMeta = field(default_factory=RunMeta)
    default_title: str = ""

    @property
    def title(self) -> str:
        """The name the user gave the run, else the script name and a short id."""
        return self.meta.name or self.default_title or self.name

    @property
    def parent(self) -> str | None:
        """The folder of the run this one resumed from (``run.yaml``'s ``parent`` or the config's ckpt_path)."""
        return self.meta.parent or parent_run(self.config.get("ckpt_path"))


def _status(events: list[dict[str, Any]], folder: Path) -> str:
    """finished / interrupted / failed once the run has ended (the rule of studio.protocol.run_end); before that
    "running" while its events file is still being written; else the last stage's outcome, or "incomplete" (killed
    before any stage ended)."""
    end = RunEnd()
    if any(end.feed(event) for event in events):
        return end.status or "finished"
    if any(event.get("type") == "exception" for event in events):
        return "failed"
    if not events:
        return "empty"
    if is_live_run(folder):
        return "running"
    stages = [event for event in events if event.get("type") == "stage_finished"]
    return str(stages[-1].get("status") or "finished") if stages else "incomplete"


def summarize_run(path: str | os.PathLike[str], events: list[dict[str, Any]] | None = None) -> RunSummary:
    """Summarise the run in folder ``path`` (or the given ``events`` of it)."""
    folder = Path(path)
    events = load_events(folder / "events.jsonl") if events is None else events
    summary = RunSummary(path=str(folder), name=_display_name(folder))
    if not events:
        summary.status = "empty"
        return summary
    times = [float(e["time"]) for e in events if isinstance(e.get("time"), (int, float))]
    started = next((e for e in events if e.get("type") == "run_started"), None)
    finished = next((e for e in reversed(events) if e.get("type") == "run_finished"), None)
    summary.run_id = events[0].get("run_id")
    summary.mode = (started or {}).get("mode") or ((finished or {}).get("result") or {}).get("mode")
    summary.config = (started or {}).get("config") or {}
    summary.status = _status(events, folder)
    summary.started = times[0] if times else None
    if finished is not None and isinstance(finished.get("duration_s"), (int, float)):
        summary.duration_s = float(finished["duration_s"])
    elif len(times) > 1:
        summary.duration_s = times[-1] - times[0]
    values: dict[str, list[float]] = {}
    for event in events:
        if event.get("type") in ("metrics", "epoch_finished"):
            for name, value in (event.get("metrics") or {}).items():
                try:
                    values.setdefault(name, []).append(float(value))
                except (TypeError, ValueError):
                    continue
    summary.metric_names = sorted(values)
    summary.stats = {name: metric_stats(v, "max" if _higher_is_better(name) else "min")
                     for name, v in values.items()}
    summary.hparams = load_hparams(folder, summary.config.get("hparams") or {})
    model = summary.config.get("model") or {}
    summary.default_title = default_name(model.get("script") if isinstance(model, dict) else None,
                                         summary.run_id, str(folder))
    monitor, mode = monitor_of(summary.config)
    if monitor is None:
        monitor = next((m for m in ("val_loss", "val_acc", "train_loss", "loss") if m in values), None)
        mode = "max" if monitor and "acc" in monitor else "min"
    summary.monitor = monitor
    finite = [v for v in values.get(monitor or "", []) if math.isfinite(v)]
    if finite:
        summary.best = max(finite) if mode == "max" else min(finite)
        summary.last = finite[-1]
        if monitor:
            summary.stats[monitor] = metric_stats(finite, mode or "min")
    summary.meta = load_meta(folder)
    return summary


def _higher_is_better(name: str) -> bool:
    """Accuracy-like names are maximised (the "best" column); losses and errors minimised."""
    lowered = name.lower()
    return any(word in lowered for word in ("acc", "f1", "auc", "precision", "recall", "iou", "dice", "score"))


def _display_name(folder: Path, root: Path | None = None) -> str:
    """``experiment/version_3`` for ``root/experiment/lightning_logs/version_3`` (the parts that tell runs apart)."""
    parts: tuple[str, ...] = folder.parts
    if root is not None:
        try:
            parts = folder.relative_to(root).parts or folder.parts
        except ValueError:
            pass
    parts = tuple(p for p in parts if p != "lightning_logs")
    return "/".join(parts[-2:])


_CACHE: dict[str, tuple[tuple[int, float], RunSummary]] = {}


def scan_runs(root: str | os.PathLike[str], max_depth: int = 6) -> list[RunSummary]:
    """Every run folder under ``root`` (newest first); unreadable files are listed with status "unreadable"."""
    found: list[RunSummary] = []
    root = Path(root)
    if not root.is_dir():
        return found
    base_depth = len(root.parts)
    for current, dirs, files in os.walk(root):
        depth = len(Path(current).parts) - base_depth
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and depth < max_depth)
        if "events.jsonl" not in files:
            continue
        path = os.path.join(current, "events.jsonl")
        try:
            stat = os.stat(path)
            key = (stat.st_size, stat.st_mtime)
            cached = _CACHE.get(path)
            if cached is not None and cached[0] == key:
                cached[1].meta = load_meta(current)  # names and tags change without new events
                found.append(cached[1])
                continue
            summary = summarize_run(current)
            summary.name = _display_name(Path(current), root)
        except (OSError, ValueError) as error:
            summary = RunSummary(path=current, name=_display_name(Path(current), root), status="unreadable")
            summary.mode = str(error)[:80]
        else:
            _CACHE[path] = (key, summary)
        found.append(summary)
    found.sort(key=lambda s: s.started or 0.0, reverse=True)
    return found


def load_run(path: str | os.PathLike[str]) -> RunModel:
    """Replay a run folder's events into a fresh RunModel (its metric series are what the overlay plots)."""
    model = RunModel()
    model.apply(load_events(Path(path) / "events.jsonl"))
    return model


def value_at(x: np.ndarray, y: np.ndarray, step: float) -> tuple[float, float] | None:
    """The last point at or before ``step`` as (x, y), or None when the series starts later."""
    if not len(x):
        return None
    index = int(np.searchsorted(x, step, side="right")) - 1
    if index < 0:
        return None
    return float(x[index]), float(y[index])
