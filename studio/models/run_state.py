"""The state of one run as the GUI sees it, built by applying the event stream (no Qt, no torch).

:class:`RunModel` is the one place that interprets events: the live views, the dashboards and the run-history
loader all read it. ``apply(batch)`` returns the set of event types it saw so the Qt layer can tell views what
changed. Replaying an ``events.jsonl`` file through ``apply`` reproduces exactly what was seen live.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.models.dashboards.media import MediaStore
from studio.models.metric_store import MetricStore, to_number
from studio.protocol import events as ev
from studio.protocol.stream import read_events_file

__all__ = ["RunStatus", "Progress", "RunModel", "load_events"]

_METRICS_BLOCK = ev.METRICS_BLOCK  # columnar wire form of consecutive metrics events (studio.worker.channel.pack)
_SYSTEM_SAMPLE = "system_sample"  # GPU and system samples the studio takes during a run (services.system_monitor)


class RunStatus:
    """Run status values (strings, so they print and compare simply)."""

    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    FAILED = "failed"
    ENDED = (FINISHED, INTERRUPTED, FAILED)


@dataclass
class Progress:
    """Where the run is and how fast it goes (the GUI's progress bar).

    Batches are counted across epochs (epoch x batches per epoch + batch), so the rate is measured over epochs
    shorter than the measuring window too (a small GAN's epoch lasts a fraction of a second). The ETA of a fit comes
    from the training position and the training throughput since training began, validation time included, so it
    neither swings with each sample nor drops to zero while validation runs.
    """

    stage: str | None = None
    epoch: int = 0
    step: int = 0
    batch: int = 0
    num_batches: int | None = None
    max_epochs: int | None = None
    max_steps: int | None = None
    batches_per_s: float | None = None
    _anchors: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False)
    _rates: dict[str, float] = field(default_factory=dict, repr=False)
    _train_at: tuple[int, int, int, int | None, float] | None = field(default=None, repr=False)
    _train_origin: tuple[int, float] | None = field(default=None, repr=False)

    RATE_WINDOW_S = 1.0
    """The rate is measured over at least this long (two close samples would give absurd values)."""

    def update(self, stage: str, epoch: int, step: int, batch: int, num_batches: int | None, when: float) -> None:
        """Take a progress sample and refresh the smoothed rate."""
        count = epoch * (num_batches or 0) + batch
        # One anchor per stage: the training count carries on across the validation runs between its epochs.
        anchor = self._anchors.get(stage)
        if anchor is None or count < anchor[0]:
            self._anchors[stage] = (count, when)
        elif when - anchor[1] >= self.RATE_WINDOW_S and count > anchor[0]:
            rate = (count - anchor[0]) / (when - anchor[1])
            previous = self._rates.get(stage)
            self._rates[stage] = rate if previous is None else 0.7 * previous + 0.3 * rate
            self._anchors[stage] = (count, when)
        # The current stage's rate; a validation too short to measure shows the training rate meanwhile.
        self.batches_per_s = self._rates.get(stage) or self._rates.get("train")
        if stage == "train":
            self._train_at = (epoch, batch, step, num_batches, when)
            if self._train_origin is None or count < self._train_origin[0]:
                self._train_origin = (count, when)
        self.stage, self.epoch, self.step, self.batch, self.num_batches = stage, epoch, step, batch, num_batches

    def eta_s(self, now: float | None = None) -> float | None:
        """Seconds left: of the fit (to max_epochs/max_steps) once training started, else of the current stage.

        Args:
            now: the current time (``time.time()``); while validation runs it makes the fit's ETA include the time
                spent there. None: the time of the last training sample.
        """
        if self._train_at is not None and self._train_origin is not None:
            eta = self._train_eta(now)
            if eta is not None:
                return eta
        rate = self.batches_per_s
        if not rate or self.num_batches is None:
            return None
        return max(self.num_batches - self.batch, 0) / rate

    def _train_eta(self, now: float | None) -> float | None:
        epoch, batch, step, num_batches, when = self._train_at  # type: ignore[misc]
        origin_count, origin_time = self._train_origin  # type: ignore[misc]
        if not num_batches:
            return None
        done = epoch * num_batches + batch - origin_count
        elapsed = max(now if now is not None else when, when) - origin_time
        if done < 2 or elapsed < self.RATE_WINDOW_S:
            return None
        rate = done / elapsed
        left = max(num_batches - batch, 0)
        candidates = []
        if self.max_epochs is not None and self.max_epochs > 0:
            candidates.append(left + max(self.max_epochs - epoch - 1, 0) * num_batches)
        if self.max_steps is not None and self.max_steps > 0:
            candidates.append(max(self.max_steps - step, 0))
        if not candidates:
            return None  # an open-ended fit has no end to count down to
        return min(candidates) / rate

    def fraction(self) -> float | None:
        """Done fraction of the current epoch/stage in [0, 1], or None when the total is unknown."""
        if not self.num_batches:
            return None
        return min(self.batch / self.num_batches, 1.0)


class RunModel:
    """Everything known about the current (or a loaded) run.

    Attributes:
        metrics: the plotted series (x = global step).
        status: a :class:`RunStatus` value.
        reason: why the run ended when it did not finish (exit code meaning, exception message).
        exception: the last ``exception`` event's fields (traceback, user_frame), if any.
        console: the newest log lines as ``(level, text)``.
        latest: the newest value of every metric (progress bar and logged), for the status pane.
        extras: per-type event lists kept for other views (lr_find_point, batch_size_trial, profiler_report,
            checkpoint_saved, model_summary, run_started, run_finished).
    """

    CONSOLE_LINES = 20_000

    def __init__(self) -> None:
        self.metrics = MetricStore()
        self.media = MediaStore()  # images, histograms and text from logger.experiment (the Images/Distributions tabs)
        self.reset()

    def reset(self, *, mode: str | None = None) -> None:
        """Forget the previous run."""
        self.metrics.clear()
        self.media.clear()
        self.run_id: str | None = None
        self.mode = mode
        self.status = RunStatus.IDLE if mode is None else RunStatus.STARTING
        self.reason = ""
        self.exception: dict[str, Any] | None = None
        self.log_dir: str | None = None
        self.progress = Progress()
        self.latest: dict[str, float] = {}
        self.console: deque[tuple[str, str]] = deque(maxlen=self.CONSOLE_LINES)
        self.console_total = 0
        self.extras: dict[str, list[dict[str, Any]]] = {}
        self.checkpoints: list[str] = []
        self.result: dict[str, Any] = {}
        self.started_at: float | None = time.time() if mode is not None else None
        self.ended_at: float | None = None
        self.events_seen = 0
        self.events_skipped = 0  # malformed events apply() could not use
        self._epoch_points: dict[str, tuple[Any, int]] = {}

    # --- queries ----------------------------------------------------------------------------------------------
    @property
    def ended(self) -> bool:
        """True once the run finished, was interrupted or failed."""
        return self.status in RunStatus.ENDED

    def elapsed_s(self) -> float | None:
        """Seconds since the run started (frozen at the end)."""
        if self.started_at is None:
            return None
        return (self.ended_at or time.time()) - self.started_at

    def log(self, level: str, text: str) -> None:
        """Add lines to the console (the GUI's own notes use this too)."""
        lines = text.splitlines() or [""]
        for line in lines:
            self.console.append((level, line))
        self.console_total += len(lines)

    # --- events -----------------------------------------------------------------------------------------------
    def apply(self, batch: list[dict[str, Any]]) -> set[str]:
        """Apply a batch of events in order; returns the event types seen."""
        seen: set[str] = set()
        if batch and self.status == RunStatus.STARTING:
            self.status = RunStatus.RUNNING  # the child is talking (tuner runs start without run_started)
        for event in batch:
            kind = event.get("type", "") if isinstance(event, dict) else None
            handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
            if handler is not None:
                try:
                    handler(self, event)
                except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError):
                    # A malformed event (a string where a number belongs...) is counted, never fatal to the GUI.
                    self.events_skipped += 1
                    continue
                seen.add(ev.METRICS if kind == _METRICS_BLOCK else kind)
        self.events_seen += len(batch)
        return seen

    def end(self, status: str, reason: str = "", at: float | None = None) -> None:
        """Mark the run ended (used by the process supervisor when the child dies without a final event).

        Args:
            status: one of ``RunStatus.ENDED``.
            reason: why, for the status strip.
            at: when it ended (a reopened run's last event); now when not given.
        """
        if self.ended:
            return
        self.status = status
        self.reason = reason
        self.ended_at = at if at is not None else time.time()

    def _keep(self, event: dict[str, Any]) -> None:
        self.extras.setdefault(event["type"], []).append(event)

    def _on_run_started(self, event: dict[str, Any]) -> None:
        self.run_id = event.get("run_id")
        self.mode = event.get("mode") or self.mode
        self.log_dir = event.get("log_dir") or self.log_dir
        if self.status in (RunStatus.IDLE, RunStatus.STARTING):
            self.status = RunStatus.RUNNING
        if self.started_at is None:
            self.started_at = event.get("time") or time.time()
        self._keep(event)

    def _on_stage_started(self, event: dict[str, Any]) -> None:
        if self.status in (RunStatus.IDLE, RunStatus.STARTING):
            self.status = RunStatus.RUNNING
        self.progress.stage = event.get("stage")
        self.progress.max_epochs = event.get("max_epochs")
        self.progress.max_steps = event.get("max_steps")

    def _on_epoch_started(self, event: dict[str, Any]) -> None:
        self.progress.epoch = int(event.get("epoch") or 0)
        if event.get("num_batches") is not None:
            self.progress.num_batches = event["num_batches"]

    def _on_progress(self, event: dict[str, Any]) -> None:
        stage = event.get("stage") or ""
        step = int(event.get("step") or 0)
        self.progress.update(stage, int(event.get("epoch") or 0), step, int(event.get("batch") or 0),
                             event.get("num_batches"), float(event.get("time") or time.time()))
        values = event.get("metrics") or {}
        # Progress samples are taken on wall-clock time and hold progress-bar values, not logged metrics: nothing
        # from them is plotted (a "loss" series from them disagreed with the script's own train_loss). They do
        # tell which epoch and time each step was reached at (the charts' epoch / wall-time x axis).
        if stage == "train":
            self.metrics.clock.note(step, event.get("epoch"), event.get("time"))
        self._note_latest(values)

    def _on_metrics(self, event: dict[str, Any]) -> None:
        values = event.get("metrics") or {}
        self.metrics.add_many(int(event.get("step") or 0), values, kind="epoch")
        self.metrics.clock.note(int(event.get("step") or 0), event.get("epoch"), event.get("time"))
        self._classify(values, [event.get("epoch")])
        self._note_latest(values)

    def _classify(self, names: Any, epochs: list[Any]) -> None:
        """Logged series start as epoch-level; a second point within one epoch makes them per-step.

        Epoch-level series (validation metrics, ``on_epoch`` aggregates) are drawn with markers and never
        smoothed; per-step ones get the EMA over a faint raw line.
        """
        for name in names:
            series = self.metrics.get(name)
            if series is None or series.kind == "step":
                continue
            last_epoch, count = self._epoch_points.get(name, (None, 0))
            for epoch in epochs:
                count = count + 1 if epoch == last_epoch else 1
                last_epoch = epoch
                if count > 1:
                    series.kind = "step"
                    series.version += 1
                    break
            self._epoch_points[name] = (last_epoch, count)

    def _on_metrics_block(self, event: dict[str, Any]) -> None:
        steps = np.asarray(event.get("steps") or [], dtype=np.float64)
        if not len(steps):
            return
        increasing = bool(np.all(np.diff(steps) > 0))
        epochs = event.get("epochs") or [None]
        self.metrics.clock.note(steps[-1], epochs[-1], event.get("time"))
        for name, column in zip(event.get("names") or [], event.get("values") or []):
            values = np.array([to_number(v) if not isinstance(v, float) else v for v in column], dtype=np.float64)
            series = self.metrics.get(name)
            last = series.last() if series is not None else None
            if increasing and series is not None and (last is None or steps[0] > last[0]):
                series.extend(steps, values)
                self.metrics.version += 1
            else:
                for x, y in zip(steps, values):
                    self.metrics.add(name, x, y, kind="epoch")
            self._classify([name], list(event.get("epochs") or []))
            if len(values):
                self.latest[name] = float(values[-1])

    def _on_epoch_finished(self, event: dict[str, Any]) -> None:
        values = event.get("metrics") or {}
        step = int(event.get("step") or 0)
        # Epoch summaries hold metrics already plotted per step (e.g. the progress-bar loss); only names that are
        # epoch-level (never seen per step) become epoch series.
        # Names the logger already reported in this epoch are skipped (the logger's point sits one step earlier).
        # A metric logged with on_step and on_epoch reaches the loggers as NAME_step and NAME_epoch; the bare NAME in
        # the summary is the 1.x callback_metrics alias (the step value after validation, the epoch value after
        # training), so plotting it would draw a third, zig-zagging copy of the same quantity.
        epoch = event.get("epoch")
        epoch_values = {k: v for k, v in values.items() if (k not in self.metrics or
                        self.metrics.series(k).kind == "epoch") and self._epoch_points.get(k, (None,))[0] != epoch
                        and not (f"{k}_step" in values or f"{k}_epoch" in values)}
        self.metrics.add_many(step, epoch_values, kind="epoch")
        self._note_latest(values)

    def _on_stage_finished(self, event: dict[str, Any]) -> None:
        self._note_latest(event.get("metrics") or {})

    def _note_latest(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            number = to_number(value)
            if number is not None:
                self.latest[name] = number

    def _on_media(self, event: dict[str, Any]) -> None:
        self.media.run_dir = self.media.run_dir or self.log_dir
        self.media.add(event)
        if event.get("type") == ev.TEXT:
            self.log("text", f"[{event.get('tag')} @ step {event.get('step')}] {event.get('text', '')}")

    def _on_log(self, event: dict[str, Any]) -> None:
        self.log(str(event.get("level") or "info"), str(event.get("text") or ""))

    def _on_exception(self, event: dict[str, Any]) -> None:
        self.exception = event
        # Where the run was when it failed (progress samples are throttled, so the last one can be older).
        if event.get("step") is not None:
            self.progress.step = int(event["step"])
        if event.get("epoch") is not None:
            self.progress.epoch = int(event["epoch"])
        if event.get("exc_type") != "KeyboardInterrupt":
            frame = event.get("user_frame") or {}
            where = f" ({frame.get('file')}, line {frame.get('line')})" if frame else ""
            self.log("error", f"{event.get('exc_type')}: {event.get('message')}{where}")
            self.log("error", str(event.get("traceback") or ""))

    def _on_checkpoint(self, event: dict[str, Any]) -> None:
        path = event.get("path")
        if path and path not in self.checkpoints:
            self.checkpoints.append(path)
        self._keep(event)

    def _on_run_finished(self, event: dict[str, Any]) -> None:
        self._keep(event)
        self.result = event.get("result") or {}
        self._note_latest(event.get("metrics") or {})
        status = event.get("status") or RunStatus.FINISHED
        self.status = status if status in RunStatus.ENDED else RunStatus.FINISHED
        self.reason = event.get("reason") or ""
        self.ended_at = float(event.get("time") or time.time())
        if self.result.get("log_dir"):
            self.log_dir = self.result["log_dir"]


_HANDLERS = {
    ev.RUN_STARTED: RunModel._on_run_started,
    ev.STAGE_STARTED: RunModel._on_stage_started,
    ev.STAGE_FINISHED: RunModel._on_stage_finished,
    ev.EPOCH_STARTED: RunModel._on_epoch_started,
    ev.EPOCH_FINISHED: RunModel._on_epoch_finished,
    ev.PROGRESS: RunModel._on_progress,
    ev.METRICS: RunModel._on_metrics,
    _METRICS_BLOCK: RunModel._on_metrics_block,
    ev.MODEL_SUMMARY: RunModel._keep,
    ev.LR_FIND_POINT: RunModel._keep,
    ev.BATCH_SIZE_TRIAL: RunModel._keep,
    ev.PROFILER_REPORT: RunModel._keep,
    ev.CHECKPOINT_SAVED: RunModel._on_checkpoint,
    ev.LOG: RunModel._on_log,
    ev.EXCEPTION: RunModel._on_exception,
    ev.IMAGE: RunModel._on_media,
    ev.HISTOGRAM: RunModel._on_media,
    ev.TEXT: RunModel._on_media,
    ev.RUN_FINISHED: RunModel._on_run_finished,
    _SYSTEM_SAMPLE: RunModel._keep,
}


def load_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read an ``events.jsonl`` file (torn, garbage or non-event lines are skipped: see ``read_events_file``)."""
    return read_events_file(path).events
