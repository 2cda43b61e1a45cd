"""EventRecorder: the callback that turns a run into the telemetry event stream.

It writes each event as one JSON line to ``{trainer.log_dir}/events.jsonl`` (or an explicit ``path``) and hands
each event dict to an optional ``sink`` (the studio worker's channel to the GUI). It never waits on a consumer and
never syncs the device per step: per-batch progress is throttled by time (``progress_interval``), and reading the
step loss happens only for the batches that are actually reported.

Examples:
    >>> import trainer_core as pl
    >>> events = []
    >>> recorder = EventRecorder(sink=events.append, path=None, write_file=False)
    >>> trainer = pl.Trainer(callbacks=[recorder], max_epochs=1)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import IO, Any

from trainer_core.callback import Callback
from trainer_core.telemetry import events as ev

__all__ = ["EventRecorder"]

Sink = Callable[[dict[str, Any]], None]
_UNKNOWN = object()  # the training epoch's batch count before on_train_epoch_start read it


def _metric_dict(metrics: Any) -> dict[str, float]:
    out: dict[str, float] = {}
    if not isinstance(metrics, dict):
        return out
    for name, value in metrics.items():
        number = ev.to_float(value)
        if number is not None:
            out[str(name)] = number
    return out


def _num_batches(value: Any, dataloader_idx: int = 0) -> int | None:
    if isinstance(value, (list, tuple)):
        value = value[dataloader_idx] if 0 <= dataloader_idx < len(value) else None
    if isinstance(value, float) and value == float("inf"):
        return None
    return int(value) if isinstance(value, (int, float)) else None


class EventRecorder(Callback):
    """Record the run as telemetry events (see docs/events.md).

    Args:
        sink: called with every event dict, in order; must not block and must be thread-safe (image and histogram
            events arrive from the logger's media thread).
        path: the events file; ``None`` means ``{trainer.log_dir}/events.jsonl`` when the trainer has a logger.
        run_id: identifies the run in every event; a random id when not given.
        mode: the run mode reported in ``run_started`` (fit, validate, ...); the first stage when not given.
        config: extra configuration reported in ``run_started`` (the resolved run spec, for example).
        progress_interval: minimum seconds between two ``progress`` events of one stage.
        write_file: set False to only feed the sink.
    """

    # The epoch's training batches (None: an unsized loader), set when a training epoch starts.
    _train_total: Any = _UNKNOWN

    def __init__(
        self,
        *,
        sink: Sink | None = None,
        path: str | os.PathLike[str] | None = None,
        run_id: str | None = None,
        mode: str | None = None,
        config: dict[str, Any] | None = None,
        progress_interval: float = 0.05,
        write_file: bool = True,
    ) -> None:
        self.sink = sink
        self.path = os.fspath(path) if path is not None else None
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.mode = mode
        self.config = dict(config or {})
        self.progress_interval = float(progress_interval)
        self.write_file = write_file
        self.status = "running"
        self._seq = 0
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._was_open = False
        self._pending: list[str] = []
        self._started = False
        self._last_progress: dict[str, float] = {}
        self._seen_checkpoints: set[str] = set()
        self._media_root: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        # A Trainer can be pickled (Lightning 1.5): the lock and an open file belong to this process, so a copy
        # gets a lock of its own and no open file (its next stage's setup opens the events file again).
        state = dict(self.__dict__)
        state["_lock"] = None
        state["_file"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # --- emitting ---------------------------------------------------------------------------------------------
    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Record one event (any type of docs/events.md; the worker uses this for log lines and the final event)."""
        with self._lock:
            event = {"type": event_type, "run_id": self.run_id, "seq": self._seq, "time": time.time(), **fields}
            self._seq += 1
            if self.write_file:
                line = json.dumps(event, default=ev.json_safe)
                if self._file is not None:
                    self._file.write(line + "\n")
                elif self._was_open and self.path is not None:
                    # After teardown (the worker's final event): append without keeping the file open.
                    with open(self.path, "a", encoding="utf-8") as handle:
                        handle.write(line + "\n")
                else:
                    self._pending.append(line)
        if self.sink is not None:
            try:
                self.sink(event)
            except Exception as error:  # a broken consumer must never stop training
                self.sink = None
                print(f"EventRecorder: the event sink failed and was disconnected: {error!r}", file=sys.__stderr__)
        return event

    def close(self) -> None:
        """Flush and close the events file (reopened in append mode by the next stage's ``setup``)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _open(self, trainer: Any) -> None:
        if not self.write_file or self._file is not None:
            return
        if not getattr(trainer, "is_global_zero", True):
            # The copy in another rank's process (ddp_spawn): rank 0's copy writes the one events file.
            self.write_file = False
            self._pending.clear()
            return
        path = self.path
        if path is None:
            logger_dir = getattr(getattr(trainer, "logger", None), "log_dir", None)
            if not logger_dir or not self._owns_default_file(trainer):
                self.write_file = False
                self._pending.clear()
                return
            path = os.path.join(str(logger_dir), "events.jsonl")
            self.path = path
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with self._lock:
            self._file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives across hooks
            self._was_open = True
            for line in self._pending:
                self._file.write(line + "\n")
            self._pending.clear()

    @property
    def unwritten_lines(self) -> list[str]:
        """Events emitted while no events file was open (none opened yet, e.g. a tuner-only run), as JSON lines."""
        return list(self._pending)

    def _owns_default_file(self, trainer: Any) -> bool:
        # Two recorders on one trainer (the engine's default one and the studio's) must not write the same file:
        # the one with a sink (the studio's) or else the first in callback order writes it.
        defaults = [c for c in getattr(trainer, "callbacks", []) if isinstance(c, EventRecorder) and c.path is None]
        if self.sink is not None:
            return True
        if any(other.sink is not None for other in defaults):
            return False
        return not defaults or defaults[0] is self

    def _progress_due(self, stage: str, last: bool) -> bool:
        now = time.monotonic()
        previous = self._last_progress.get(stage)
        if last or previous is None or now - previous >= self.progress_interval:
            self._last_progress[stage] = now
            return True
        return False

    def _media_event(self, event_type: str, **fields: Any) -> None:
        """An image, histogram, text or direct scalar from ``logger.experiment`` (may run on the media thread)."""
        path = fields.get("path")
        if isinstance(path, str) and os.path.isabs(path) and self._media_root:
            # Relative to the run folder, so a copied or moved run folder still finds its pictures.
            fields["path"] = os.path.relpath(path, self._media_root).replace(os.sep, "/")
        self.emit(event_type, **fields)

    # --- set-up and stages ------------------------------------------------------------------------------------
    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        self._open(trainer)
        self._media_root = os.path.dirname(os.path.abspath(self.path)) if self.path else (
            str(trainer.log_dir) if getattr(trainer, "log_dir", None) else None)
        for logger in getattr(trainer, "loggers", None) or []:
            attach = getattr(logger, "attach_media_listener", None)
            if callable(attach):
                attach(self._media_event, lambda: int(getattr(trainer, "global_step", 0)))
        if not self._started:
            self._started = True
            hparams = getattr(pl_module, "hparams", None)
            config = {"hparams": ev.json_safe(dict(hparams)) if hparams else {}, **ev.json_safe(self.config)}
            self.emit(
                ev.RUN_STARTED,
                mode=self.mode or stage,
                log_dir=str(trainer.log_dir) if getattr(trainer, "log_dir", None) else None,
                pid=os.getpid(),
                config=config,
            )
            self._emit_summary(pl_module)
        self.emit(
            ev.STAGE_STARTED,
            stage=stage,
            max_epochs=getattr(trainer, "max_epochs", None),
            max_steps=getattr(trainer, "max_steps", None),
            num_batches=None,
        )

    def teardown(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        self._check_checkpoints(trainer)
        for logger in getattr(trainer, "loggers", None) or []:
            wait = getattr(logger, "wait_for_media", None)
            if callable(wait):
                wait()  # images and histograms still being encoded are reported before the stage ends
        state = getattr(trainer, "state", None)
        status = getattr(state, "status", None)
        if self.status in ("interrupted", "failed"):
            status = self.status
        elif status in (None, "running"):
            status = "finished"
        self.emit(ev.STAGE_FINISHED, stage=stage, status=status, metrics=_metric_dict(trainer.callback_metrics))
        self.close()

    def _emit_summary(self, pl_module: Any) -> None:
        try:
            params = list(pl_module.parameters())
            layers = []
            for name, child in pl_module.named_children():
                count = sum(p.numel() for p in child.parameters())
                layers.append({"name": name, "type": type(child).__name__, "params": int(count)})
            self.emit(
                ev.MODEL_SUMMARY,
                total_params=int(sum(p.numel() for p in params)),
                trainable_params=int(sum(p.numel() for p in params if p.requires_grad)),
                layers=layers,
            )
        except Exception as error:  # a summary is a nicety; never fail the run for it
            self.emit(ev.LOG, level="warning", stream="telemetry", text=f"model summary unavailable: {error!r}")

    # --- epochs -----------------------------------------------------------------------------------------------
    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        total = _num_batches(getattr(trainer, "num_training_batches", None))
        self._train_total = total  # read per batch by on_train_batch_end: the count is fixed for the epoch
        self.emit(ev.EPOCH_STARTED, stage="train", epoch=trainer.current_epoch, step=trainer.global_step,
                  num_batches=total)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        self.emit(ev.EPOCH_FINISHED, stage="train", epoch=trainer.current_epoch, step=trainer.global_step,
                  metrics=_metric_dict(trainer.callback_metrics))
        self._check_checkpoints(trainer)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        if getattr(trainer, "sanity_checking", False):
            return
        self.emit(ev.EPOCH_FINISHED, stage="validate", epoch=trainer.current_epoch, step=trainer.global_step,
                  metrics=_metric_dict(trainer.callback_metrics))
        self._check_checkpoints(trainer)

    def on_test_end(self, trainer: Any, pl_module: Any) -> None:
        self.emit(ev.EPOCH_FINISHED, stage="test", epoch=trainer.current_epoch, step=trainer.global_step,
                  metrics=_metric_dict(trainer.callback_metrics))

    # --- batches ----------------------------------------------------------------------------------------------
    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        total = self._train_total
        if total is _UNKNOWN:  # called outside an epoch this recorder saw start
            total = _num_batches(getattr(trainer, "num_training_batches", None))
        # The throttle inlined: most batches fall between two reports and cost one clock read, no method call.
        if (total is None or batch_idx + 1 < total) and (
                time.monotonic() - self._last_progress.get("train", -math.inf) < self.progress_interval):
            return
        if not self._progress_due("train", total is not None and batch_idx + 1 >= total):
            return
        metrics = _metric_dict(getattr(trainer, "progress_bar_metrics", None))
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        number = ev.to_float(loss) if loss is not None else None  # one host read per reported batch only
        if number is not None:
            metrics["loss"] = number
        self.emit(ev.PROGRESS, stage="train", epoch=trainer.current_epoch, step=trainer.global_step,
                  batch=batch_idx + 1, num_batches=total, metrics=metrics)

    def _eval_progress(self, trainer: Any, stage: str, attr: str, batch_idx: int, dataloader_idx: int) -> None:
        if stage == "validate" and getattr(trainer, "sanity_checking", False):
            stage = "sanity_check"
        total = _num_batches(getattr(trainer, attr, None), dataloader_idx)
        if self._progress_due(stage, total is not None and batch_idx + 1 >= total):
            self.emit(ev.PROGRESS, stage=stage, epoch=trainer.current_epoch, step=trainer.global_step,
                      batch=batch_idx + 1, num_batches=total, metrics={})

    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None:
        self._eval_progress(trainer, "validate", "num_val_batches", batch_idx, dataloader_idx)

    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None:
        self._eval_progress(trainer, "test", "num_test_batches", batch_idx, dataloader_idx)

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        self._eval_progress(trainer, "predict", "num_predict_batches", batch_idx, dataloader_idx)

    # --- telemetry hooks --------------------------------------------------------------------------------------
    def on_log_metrics(self, trainer: Any, pl_module: Any, metrics: dict[str, float], step: int) -> None:
        values = _metric_dict(metrics)
        epoch = values.pop("epoch", None)
        self.emit(ev.METRICS, step=int(step), epoch=None if epoch is None else int(epoch), metrics=values)

    def on_lr_find_point(self, trainer: Any, pl_module: Any, point: dict[str, float]) -> None:
        self.emit(ev.LR_FIND_POINT, **{k: point.get(k) for k in ("step", "lr", "loss", "smoothed_loss")})

    def on_batch_size_trial(self, trainer: Any, pl_module: Any, trial: dict[str, Any]) -> None:
        self.emit(ev.BATCH_SIZE_TRIAL, **{k: trial.get(k) for k in ("batch_size", "fits", "peak_memory", "time_s")})

    def on_profiler_report(self, trainer: Any, pl_module: Any, stage: str, rows: list[dict[str, Any]]) -> None:
        self.emit(ev.PROFILER_REPORT, stage=stage, rows=ev.json_safe(rows))

    def on_model_summary(self, trainer: Any, pl_module: Any, summary: dict[str, Any]) -> None:
        """The full weights table (rows with in/out sizes, totals, size in MB) from the ModelSummary callback."""
        layers = [{"name": r.get("name"), "type": r.get("type"), "params": r.get("params")}
                  for r in summary.get("rows", [])]
        self.emit(ev.MODEL_SUMMARY, layers=layers, **ev.json_safe(summary))

    def on_checkpoint_saved(self, trainer: Any, pl_module: Any, filepath: str) -> None:
        """Report each checkpoint when it is written, with the monitor, mode, score and best file of the callback.

        A ``last`` file is reported every time it is rewritten (it then holds a newer epoch); others once.
        """
        kind = "last" if os.path.basename(filepath).startswith("last") else "checkpoint"
        if filepath in self._seen_checkpoints and kind != "last":
            return
        self._seen_checkpoints.add(filepath)
        monitor, score, mode, best_path = None, None, None, None
        for callback in getattr(trainer, "checkpoint_callbacks", None) or []:
            best_path = best_path or getattr(callback, "best_model_path", None) or None
            if getattr(callback, "monitor", None):
                monitor, score = callback.monitor, ev.to_float(getattr(callback, "current_score", None))
                mode, best_path = getattr(callback, "mode", None), getattr(callback, "best_model_path", None) or None
                break
        self.emit(ev.CHECKPOINT_SAVED, path=filepath, kind=kind, epoch=getattr(trainer, "current_epoch", None),
                  step=getattr(trainer, "global_step", None), monitor=monitor, score=score, mode=mode,
                  best_path=best_path)

    # --- checkpoints and errors -------------------------------------------------------------------------------
    def record_checkpoint(self, path: str, kind: str, trainer: Any = None) -> None:
        """Report a checkpoint file written outside ModelCheckpoint (the studio's stop checkpoint, for example)."""
        self._seen_checkpoints.add(path)
        self.emit(ev.CHECKPOINT_SAVED, path=path, kind=kind,
                  epoch=getattr(trainer, "current_epoch", None), step=getattr(trainer, "global_step", None))

    def _check_checkpoints(self, trainer: Any) -> None:
        for callback in getattr(trainer, "checkpoint_callbacks", None) or []:
            for kind, attr in (("best", "best_model_path"), ("last", "last_model_path")):
                path = getattr(callback, attr, "") or ""
                if path and path not in self._seen_checkpoints and os.path.exists(path):
                    self.record_checkpoint(path, kind, trainer)

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        interrupted = isinstance(exception, KeyboardInterrupt)
        self.status = "interrupted" if interrupted else "failed"
        self.emit(ev.EXCEPTION, **describe_exception(exception, interrupted=interrupted),
                  epoch=getattr(trainer, "current_epoch", None), step=getattr(trainer, "global_step", None))


def describe_exception(
    exception: BaseException, *, interrupted: bool = False, user_file: str | None = None
) -> dict[str, Any]:
    """The fields of an ``exception`` event: type, message, formatted traceback and the deepest user frame.

    The user frame is the innermost frame in ``user_file`` when given, else the innermost frame outside
    trainer_core, torch and the standard library, so the studio can point at the line in the user's script.
    """
    frames = traceback.extract_tb(exception.__traceback__)
    user_frame = None
    lib_markers = (os.sep + "trainer_core" + os.sep, os.sep + "torch" + os.sep, os.sep + "studio" + os.sep + "worker")
    stdlib = os.path.dirname(os.__file__)
    for frame in reversed(frames):
        filename = frame.filename
        if user_file is not None:
            match = os.path.abspath(filename) == os.path.abspath(user_file)
        else:
            match = not filename.startswith(stdlib) and not any(m in filename for m in lib_markers)
            match = match and not filename.startswith("<")
        if match:
            user_frame = {"file": filename, "line": frame.lineno, "function": frame.name, "code": frame.line}
            break
    text = "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
    return {
        "exc_type": type(exception).__name__,
        "message": "stopped by the user" if interrupted and not str(exception) else str(exception),
        "traceback": text,
        "user_frame": user_frame,
    }
