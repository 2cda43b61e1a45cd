"""RunSession: the object every view reads. It owns the run model and the child-process supervisor.

Views (the built-in ones and the dashboards) get the session in their constructor and:

- read ``session.model`` (a :class:`~studio.models.run_state.RunModel`: metric series, progress, status, console,
  and ``model.extras[event_type]`` lists for lr_find_point / batch_size_trial / profiler_report / checkpoint_saved /
  model_summary / run_started events);
- connect to ``updated(set)`` (event types just applied), ``tick()`` (the ~10 Hz redraw clock; redraw only when
  visible and something changed), ``run_started(str)`` (mode) and ``run_ended(str, str)`` (status, reason), and
  ``cleared()`` (a new or loaded run replaced the model contents).

Examples:
    >>> session = RunSession()                      # doctest: +SKIP
    >>> session.launch(config, "fit", runs_dir)     # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from studio.models.config import RunConfig
from studio.models.dashboards.system import SYSTEM_FILE
from studio.models.run_state import RunModel, RunStatus, load_events
from studio.protocol.stream import read_events_file
from studio.services.run_controller import RunController
from studio.services.run_follower import RunFollower
from studio.services.system_monitor import SystemMonitor

__all__ = ["FollowSource", "RunSession", "RunStopper"]


class FollowSource(Protocol):
    """What feeds a followed run's :class:`RunFollower` (the follower itself for a local file; an SSH stream)."""

    def start(self) -> None: ...  # noqa: D102

    def stop(self) -> None: ...  # noqa: D102

    def deleteLater(self) -> None: ...  # noqa: D102, N802 - QObject's name


class RunStopper(Protocol):
    """Stop and Kill for a followed run that is not this window's child (one on a server, a SLURM job).

    Both return at once (the signal is sent off the GUI thread) and report through :meth:`RunSession.note`; a
    graceful stop that could not be sent calls :meth:`RunSession.stop_not_sent`.
    """

    def describe(self) -> str: ...  # noqa: D102

    def stop(self) -> None: ...  # noqa: D102

    def kill(self) -> None: ...  # noqa: D102


class RunSession(QObject):
    """One window's run: launch, stop, and the model the views draw."""

    updated = Signal(set)
    tick = Signal()
    run_started = Signal(str)
    run_ended = Signal(str, str)
    cleared = Signal()

    def __init__(self, parent: QObject | None = None, *, render_hz: float = 10.0) -> None:
        super().__init__(parent)
        self.model = RunModel()
        self.controller = RunController(self)
        self.controller.events.connect(self._on_events)
        self.controller.ended.connect(self._on_ended)
        self.system = SystemMonitor(self)  # connected after _on_ended: it saves into the folder _on_ended may set
        self._clock = QTimer(self)
        self._clock.setInterval(int(1000 / render_hz))
        self._clock.timeout.connect(self.tick.emit)
        self._clock.start()
        self.last_request: dict[str, Any] = {}
        self.follower: RunFollower | None = None  # a run another process writes, followed live
        self._follow_source: FollowSource | None = None  # what feeds the follower (itself, or an SSH stream)
        self._stopper: RunStopper | None = None  # Stop/Kill of the followed run, when it was started elsewhere
        self._stopper_asked = False
        # ``host:folder`` of a followed run on another machine; the run's own events name only the folder there.
        self.remote_location: str | None = None

    @property
    def running(self) -> bool:
        """True while a child process is alive."""
        return self.controller.running

    @property
    def can_stop(self) -> bool:
        """True while Stop means something: a child process is alive, or a followed run started elsewhere runs."""
        return self.controller.running or (self._stopper is not None and self.follower is not None
                                           and not self.model.ended)

    @property
    def stop_requested(self) -> bool:
        """True once Stop was asked for the run in progress (the next Stop kills)."""
        return self.controller.stop_requested if self.controller.running else self._stopper_asked

    def launch(self, config: RunConfig, mode: str, runs_dir: str | os.PathLike[str], *,
               overrides: dict[str, Any] | None = None, synthetic: dict[str, Any] | None = None) -> str:
        """Start ``mode`` for ``config`` in a child process; returns the run id.

        Args:
            config: the forms' configuration.
            mode: fit, validate, test, predict, tune or debug.
            runs_dir: default ``default_root_dir`` when the trainer form leaves it empty; also holds the studio's
                own per-run files (``.studio/``: native crash trace, events of runs that failed before starting).
            overrides: RunSpec fields to change for this launch only (``tune``, ``debug``).
            synthetic: run the torch-free synthetic producer instead (benchmarks and tests).
        """
        spec = config.to_spec(mode)
        spec.update(overrides or {})
        flags = spec["trainer_flags"]
        flags.setdefault("default_root_dir", str(runs_dir))
        # The status bar is the progress bar; a tqdm bar in the child would only flood the console.
        if "enable_progress_bar" not in flags and "progress_bar_refresh_rate" not in flags:
            flags["enable_progress_bar"] = False
        run_id = uuid.uuid4().hex[:12]
        self.stop_following()
        private = Path(runs_dir) / ".studio"
        private.mkdir(parents=True, exist_ok=True)
        # A run that fails before the trainer makes its run folder still gets one (the Runs tab lists it).
        failed_dir = Path(runs_dir) / "failed" / f"{time.strftime('%Y%m%d-%H%M%S')}-{run_id}"
        request: dict[str, Any] = {
            "run_id": run_id,
            "spec": spec,
            "faulthandler_path": str(private / f"{run_id}-native-crash.txt"),
            "fallback_events_path": str(failed_dir / "events.jsonl"),
        }
        if synthetic is not None:
            request["synthetic"] = synthetic
        self.model.reset(mode=mode)
        self.remote_location = None
        self.model.log("studio", f"{time.strftime('%H:%M:%S')} starting {mode} of {spec['model_script'] or '?'}")
        self.cleared.emit()
        self.last_request = request
        self.controller.start(request)
        self.run_started.emit(mode)
        return run_id

    def clear(self) -> None:
        """Forget the shown run (a new project was opened); does nothing while a run is in progress."""
        if self.controller.running:
            return
        self.model.reset()
        self.last_request = {}
        self.remote_location = None
        self.cleared.emit()
        self.updated.emit({"status"})

    def stop(self) -> None:
        """Graceful stop; the second call kills."""
        if self.controller.running:
            if not self.controller.stop_requested:
                self.model.status = RunStatus.STOPPING
                self.model.log("studio", "stop requested: the run stops after the current batch")
            else:
                self.model.log("studio", "killing the training process")
            self.controller.stop()
            self.updated.emit({"status"})
        elif self.can_stop and self._stopper is not None:  # a run on a server or a SLURM job: a signal reaches it
            if not self._stopper_asked:
                self._stopper_asked = True
                self.model.status = RunStatus.STOPPING
                self.note("studio", f"stop requested ({self._stopper.describe()}): the run stops after the "
                                    "current batch, with a checkpoint there; Stop again kills it")
                self._stopper.stop()
            else:
                self.note("studio", f"killing the run ({self._stopper.describe()})")
                self._stopper.kill()
            self.updated.emit({"status"})

    def stop_not_sent(self) -> None:
        """The graceful stop asked of a run elsewhere did not reach it (the connection failed): Stop is offered again.

        Without this the button would read Kill, and the user's only way on would be to kill a run that was never
        asked to stop.
        """
        if self._stopper is None or not self._stopper_asked:
            return
        self._stopper_asked = False
        if self.model.status == RunStatus.STOPPING:
            self.model.status = RunStatus.RUNNING
        self.note("studio", "the stop did not reach the run: it runs on; Stop asks again")
        self.updated.emit({"status"})

    def shutdown(self) -> None:
        """Stop any run before the window closes."""
        self.controller.shutdown()

    def detach(self) -> str:
        """Let the current run train on without this window (and after the app exits); returns a note for the user.

        The run keeps writing its run folder (events.jsonl, metrics.csv, checkpoints); open that folder later
        (Runs tab, File > Open run, or ``python -m studio RUN_DIR``) to see it.
        """
        proc = self.controller.detach()
        if proc is None:
            return ""
        where = self.model.log_dir or self.last_request.get("spec", {}).get("trainer_flags", {}).get(
            "default_root_dir", "")
        note = (f"the run keeps training in the background (process {proc.pid}); its files go to {where}; "
                f"open it later with: python -m studio {where}")
        self.model.log("studio", f"{time.strftime('%H:%M:%S')} {note}")
        return note

    def open_run(self, path: str | os.PathLike[str]) -> None:
        """Show a finished run from its ``events.jsonl`` (or the run folder holding it).

        Raises:
            FileNotFoundError: when there is no events file there.
            RuntimeError: while a run is in progress.
        """
        if self.controller.running:
            raise RuntimeError("Stop the current run before opening another one.")
        path = Path(path)
        if path.is_dir():
            path = path / "events.jsonl"
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist; choose a run folder that holds events.jsonl.")
        read = read_events_file(path)
        events = read.events
        system = path.with_name(SYSTEM_FILE)
        if system.is_file():  # the GPU and system samples the studio took during the run
            events = events + read_events_file(system).events
        self.stop_following()
        self.model.reset()
        self.remote_location = None
        note = read.skipped_note(path)
        if note:  # say what was left out: a torn last line from a killed run, garbage written over the file
            self.model.log("studio", note)
        self.model.log_dir = str(path.parent)
        self.model.media.run_dir = str(path.parent)  # media paths are relative to where the folder is now
        self.model.apply(events)
        if not self.model.ended:
            # Command-line runs have no worker to write run_finished: their last stage_finished tells the outcome,
            # and the last event when (the elapsed time is the run's, not the time until it was reopened).
            stages = [e for e in events if e.get("type") == "stage_finished"]
            last = _last_event_time(read.events)
            if stages:
                self.model.status = RunStatus.RUNNING
                self.model.end(str(stages[-1].get("status") or RunStatus.FINISHED), at=last)
            else:
                self.model.end(RunStatus.FAILED, "the events file ends without a final event (the run was killed?)",
                               at=last)
        self.cleared.emit()
        self.updated.emit({e.get("type", "") for e in events})
        self.run_ended.emit(self.model.status, self.model.reason)

    def follow_run(self, path: str | os.PathLike[str], *, stall_s: float = 120.0,
                   stopper: RunStopper | None = None) -> None:
        """Show a run another process is still writing (a CLI, torchrun or SLURM run), live, until it ends.

        ``stopper``: what Stop and Kill do for it (a SLURM job this window submitted); None: they are off.

        Raises:
            RuntimeError: while a run of this window is in progress.
        """
        if self.controller.running:  # before a follower is made for nothing
            raise RuntimeError("Stop the current run before opening another one.")
        folder = Path(path) if Path(path).is_dir() else Path(path).parent
        self.attach_follower(RunFollower(folder, stall_s=stall_s, parent=self), where=str(folder),
                             run_dir=str(folder), how="another process writes it", stopper=stopper)

    def attach_follower(self, follower: RunFollower, *, where: str, run_dir: str | None = None,
                        how: str = "another process writes it", source: FollowSource | None = None,
                        stopper: RunStopper | None = None) -> None:
        """Show the run ``follower`` delivers, live, in the same views as this window's own runs, until it ends.

        The shown run is replaced; its end, a stall (no event for ``follower.stall_s``) and the notes of ``source``
        go to the console. :meth:`stop_following` stops it (what was shown stays).

        Args:
            follower: hands on the run's events and says when it ended or stalled (it reads a local file, or is fed
                by ``source``).
            where: the run as the user knows it (a folder, or ``host:folder``); kept as the model's ``log_dir``.
            run_dir: the run's folder on this computer, where the views find its media files (None: not here).
            how: the few words after "following WHERE live" in the console.
            source: what feeds ``follower`` (an SSH stream), started and stopped in its place; None when the
                follower reads its file itself. Its own news (reconnections, failures) is for its maker to
                pass to :meth:`note`.
            stopper: what the toolbar's Stop and Kill do for this run (one this studio started on a server or
                as a SLURM job); None: they are off, the run is only watched.

        Raises:
            RuntimeError: while a run of this window is in progress.
        """
        if self.controller.running:
            raise RuntimeError("Stop the current run before opening another one.")
        self.stop_following()
        self.model.reset()
        self.model.log_dir = where
        self.remote_location = where if run_dir is None else None  # not on this computer: no local link
        if run_dir is not None:
            self.model.media.run_dir = run_dir
        self.model.status = RunStatus.RUNNING
        self.model.log("studio", f"{time.strftime('%H:%M:%S')} following {where} live ({how})")
        self.cleared.emit()
        follower.events.connect(self._on_events)
        follower.ended.connect(self._on_follow_ended)
        follower.stalled.connect(lambda quiet: self.note(
            "warning", f"no new event for {quiet:.0f} s: the run may be stuck, or its process may have died"))
        follower.resumed.connect(lambda: self.note("studio", "events arrive again"))
        self.follower = follower
        self._stopper, self._stopper_asked = stopper, False
        self._follow_source = source if source is not None else follower
        self._follow_source.start()
        self.run_started.emit(self.model.mode or "fit")

    def stop_following(self) -> None:
        """Stop following a live run (what was shown stays)."""
        source, self._follow_source = self._follow_source, None
        self._stopper, self._stopper_asked = None, False
        if source is not None:
            source.stop()
            source.deleteLater()
        if self.follower is not None and self.follower is not source:
            self.follower.stop()
        self.follower = None

    def end_following(self, status: str, reason: str) -> None:
        """End the followed run here with ``status`` (it was killed: no final event will come) and stop following."""
        if self.follower is None:
            return
        self.stop_following()
        self._on_follow_ended(status, reason)

    def note(self, level: str, text: str) -> None:
        """Add a time-stamped line to the console (``level``: studio, info, warning or error) and redraw it."""
        self.model.log(level, f"{time.strftime('%H:%M:%S')} {text}")
        self.updated.emit({"log"})

    def _on_follow_ended(self, status: str, reason: str) -> None:
        self.model.end(status, reason)
        self.updated.emit({"status"})
        self.run_ended.emit(self.model.status, self.model.reason)

    def _end_events_file(self, path: Path) -> None:
        """A run that died without its final event (a native crash, a kill) gets one, so Runs lists its error.

        The training process is gone when this runs, so nothing else writes the file.
        """
        try:
            with open(path, "rb") as handle:
                handle.seek(max(path.stat().st_size - 65536, 0))
                tail = [line for line in handle.read().splitlines() if line.strip()]
            last = json.loads(tail[-1]) if tail else {}
        except (OSError, ValueError):
            last = {}
        if not path.is_file() or (isinstance(last, dict) and last.get("type") == "run_finished"):
            return
        event = {"type": "run_finished", "run_id": self.last_request.get("run_id"), "seq": -1, "time": time.time(),
                 "status": RunStatus.FAILED, "reason": self.model.reason, "metrics": {}, "result": {}}
        try:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(event, default=repr) + "\n")
        except OSError as error:
            self.model.log("error", f"could not record the failure in {path}: {error}")

    def _record_failed_run(self) -> None:
        """Give a run that failed before it had a run folder one, so the Runs tab lists it with its error.

        The worker wrote what it could (the exception and the final event) to the request's fallback file; a run
        that died natively or was killed before that left nothing. Either way the file gets a ``run_started`` (the
        mode and configuration) first and a final ``run_finished`` (failed, with the reason) when it has none.
        """
        request = self.last_request
        path = Path(str(request.get("fallback_events_path") or ""))
        if not path.name:
            return
        try:
            written = load_events(path) if path.is_file() else []
            events = [e for e in written if e.get("type") != "run_started"]
            started = {"type": "run_started", "run_id": request.get("run_id"), "seq": -1,
                       "time": self.model.started_at or time.time(), "mode": self.model.mode,
                       "log_dir": str(path.parent), "config": request.get("spec") or {}}
            if not any(e.get("type") == "run_finished" for e in events):
                events.append({"type": "run_finished", "run_id": request.get("run_id"), "seq": len(events),
                               "time": time.time(), "status": RunStatus.FAILED, "reason": self.model.reason,
                               "metrics": {}, "result": {}})
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                for event in [started, *events]:
                    handle.write(json.dumps(event, default=repr) + "\n")
        except OSError as error:
            self.model.log("error", f"could not record the failed run in {path.parent}: {error}")
            return
        self.model.log_dir = str(path.parent)

    def _on_events(self, batch: list[dict[str, Any]]) -> None:
        seen = self.model.apply(batch)
        self.updated.emit(seen)

    def _on_ended(self, status: str, reason: str) -> None:
        if not self.model.ended or status != self.model.status:
            self.model.status = RunStatus.RUNNING  # let end() record the supervisor's verdict
            self.model.end(status, reason or self.model.reason)
        if status == RunStatus.FAILED and reason and "exit code" in reason:
            self.model.log("error", f"run failed: {reason}")
        self.model.log("studio", f"{time.strftime('%H:%M:%S')} run {self.model.status}"
                       + (f": {self.model.reason}" if self.model.reason else ""))
        if self.model.status == RunStatus.FAILED and self.last_request:
            if not self.model.log_dir:
                self._record_failed_run()
            else:
                self._end_events_file(Path(self.model.log_dir) / "events.jsonl")
        if self.model.log_dir:
            self.model.log("studio", f"run folder: {self.model.log_dir}")
        self.updated.emit({"status"})
        self.run_ended.emit(self.model.status, self.model.reason)


def _last_event_time(events: list[dict[str, Any]]) -> float | None:
    """The newest numeric ``time`` among ``events`` (None when no event carries one)."""
    times = [t for e in events
             if isinstance(t := e.get("time"), (int, float)) and not isinstance(t, bool) and math.isfinite(t)]
    return float(max(times)) if times else None
