"""The function the GUI starts in a spawned child process: run one request, stream its events, exit.

Imports nothing heavy at module level: the GUI process imports this module to name the target, and must not load
torch by doing so. Exit codes: 0 when the run finished or was stopped, 1 when it failed (the reason is in the
``exception`` and ``run_finished`` events).
"""

from __future__ import annotations

import faulthandler
import json
import os
import sys
import time
from typing import Any

from studio.protocol import events as ev

__all__ = ["child_main"]


class _Recorderless:
    """Minimal event emitter used until the real EventRecorder exists (or when trainer_core cannot be imported)."""

    def __init__(self, sink: Any, run_id: str) -> None:
        self.sink = sink
        self.run_id = run_id
        self.seq = 0
        self.lines: list[str] = []

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        event = {"type": event_type, "run_id": self.run_id, "seq": self.seq, "time": time.time(), **fields}
        self.seq += 1
        self.lines.append(json.dumps(event, default=repr))
        self.sink(event)
        return event



def _emit_end(emitter: Any, exception: dict[str, Any], status: str, reason: str, **extra: Any) -> None:
    """The pair every early end reports: the exception, then ``run_finished`` without metrics or result."""
    emitter.emit(ev.EXCEPTION, **exception)
    emitter.emit(ev.RUN_FINISHED, status=status, reason=reason, metrics={}, result={}, **extra)


def _plain_exception(error: BaseException) -> dict[str, Any]:
    """The exception event's fields without trainer_core's ``describe_exception`` (it may be what failed)."""
    import traceback

    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {"exc_type": type(error).__name__, "message": str(error), "traceback": text, "user_frame": None}

def child_main(request: dict[str, Any], conn: Any, stop_event: Any) -> None:
    """Entry point of the training child process (``multiprocessing`` spawn target).

    Args:
        request: ``{"run_id", "spec": RunSpec fields, "faulthandler_path", "fallback_events_path",
            "progress_interval", "channel_interval"}`` or ``{"run_id", "synthetic": {...}}`` (benchmarks/tests).
        conn: write end of the pipe to the GUI.
        stop_event: set by the GUI to ask for a graceful stop.
    """
    from studio.worker.channel import Channel

    channel = Channel(conn, interval=float(request.get("channel_interval", 0.05)), on_broken=_leave_gui_session).start()
    fault_file = None
    if request.get("faulthandler_path"):
        fault_file = open(request["faulthandler_path"], "w", encoding="utf-8")  # noqa: SIM115 - until exit
        faulthandler.enable(fault_file)
    code = 0
    try:
        if "synthetic" in request:
            code = _run_synthetic(request, channel, stop_event)
        else:
            code = _run_spec(request, channel, stop_event)
    finally:
        channel.close()
        if fault_file is not None:
            faulthandler.disable()
            fault_file.close()
    _exit_without_teardown(code)


def _exit_without_teardown(code: int) -> None:
    """End the child without the interpreter's module teardown, which takes 0.3-0.6 s once torch is loaded.

    Everything the run made is already on disk or sent (the recorder and loggers are closed, checkpoints written), so
    the studio shows the run as ended that much sooner. What a normal exit would still do runs first: non-daemon
    threads are waited for, atexit handlers run (logging's flush, multiprocessing's clean-up of DataLoader workers,
    the user's own), garbage with finalizers is collected and the standard streams are flushed. Only in a
    multiprocessing child: called in-process it would end the caller.
    """
    import multiprocessing

    if multiprocessing.parent_process() is None:
        if code:
            sys.exit(code)
        return
    import atexit
    import gc
    import threading

    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    gc.collect()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _leave_gui_session() -> None:
    """The GUI is gone (the run was kept training in the background): leave its terminal session.

    Otherwise closing the terminal the studio was started from would send SIGHUP to this process too and end a run
    the user asked to keep. ``setsid`` is process-wide, so calling it from the channel's thread is fine.
    """
    if hasattr(os, "setsid"):
        try:
            os.setsid()
        except OSError:
            pass  # already a session leader


def _run_synthetic(request: dict[str, Any], channel: Any, stop_event: Any) -> int:
    from studio.worker.synthetic import run_synthetic

    try:
        run_synthetic(request, channel, stop_event)
    except Exception as error:
        emitter = _Recorderless(channel.put, str(request.get("run_id") or ""))
        _emit_end(emitter, _plain_exception(error), "failed", f"{type(error).__name__}: {error}")
        return 1
    return 0


def _run_spec(request: dict[str, Any], channel: Any, stop_event: Any) -> int:
    from studio.worker.streams import capture_output

    spec: dict[str, Any] = dict(request["spec"])
    run_id = str(request.get("run_id") or "")
    emitter: Any = _Recorderless(channel.put, run_id)
    with capture_output(lambda level, stream, text: emitter.emit(ev.LOG, level=level, stream=stream, text=text)):
        try:
            from studio.worker.relay import EventRelay
            from studio.worker.runner import execute_spec
            from studio.worker.stop import StopOnRequest, stop_checkpoint_in
            from trainer_core.telemetry import EventRecorder, describe_exception
        except BaseException as error:  # trainer_core missing or broken: still report it like any failure
            _emit_end(emitter, _plain_exception(error), "failed", f"cannot start the engine: {error}")
            _write_fallback(request, emitter.lines)
            return 1
        # Through the relay, a multi-process launch (ddp_spawn) streams rank 0's events and hears a stop too.
        relay = EventRelay(channel.put, stop_event)
        recorder = EventRecorder(sink=relay.sink, run_id=run_id, mode=spec.get("mode"), config=spec,
                                 progress_interval=float(request.get("progress_interval", 0.05)))
        emitter = recorder
        stopper = StopOnRequest(relay.stop, recorder)
        started = time.monotonic()
        try:
            result = execute_spec(spec, callbacks=[recorder, stopper])
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt) and stopper.fired:
                # Stopped outside the trainer's own handling (inside a tuner, for example): still a user stop.
                _emit_end(recorder, describe_exception(error, interrupted=True), "interrupted", "stopped by the user",
                          duration_s=time.monotonic() - started)
                _finish_file(recorder, request, relay)
                return 0
            info = describe_exception(error, user_file=spec.get("model_script"))
            where = info["user_frame"]
            reason = f"{info['exc_type']}: {info['message']}"
            if where:
                reason += f" ({os.path.basename(where['file'])}, line {where['line']})"
            _emit_end(recorder, info, "failed", reason, duration_s=time.monotonic() - started)
            _finish_file(recorder, request, relay)
            return 1
        # ddp_spawn: the ranks that stopped were copies of these callbacks; the result carries their verdict.
        interrupted = stopper.fired or recorder.status == "interrupted" or bool(result.get("interrupted"))
        status = "interrupted" if interrupted else ("failed" if recorder.status == "failed" else "finished")
        reason = "stopped by the user" if interrupted else ""
        stop_checkpoint = stopper.checkpoint_path or (stop_checkpoint_in(result.get("log_dir")) if interrupted
                                                      else None)
        if stop_checkpoint:
            reason += f"; checkpoint saved to {stop_checkpoint}"
        elif result.get("stopped_early"):
            reason = f"stopped early by {result['stopped_early']}"
        tune = result.get("tune") or {}
        found = {k: v for k, v in tune.items() if v is not None}
        if found:
            tuned = ", ".join(f"{k} = {v:.6g}" for k, v in found.items())
            reason = (reason + "; " if reason else "") + f"tuned {tuned}"
        recorder.emit(ev.RUN_FINISHED, status=status, reason=reason, metrics=result.get("metrics") or {},
                      result=result, duration_s=time.monotonic() - started)
        _finish_file(recorder, request, relay, result.get("log_dir"))
    return 0


def _finish_file(recorder: Any, request: dict[str, Any], relay: Any, log_dir: str | None = None) -> None:
    relay.close()  # every rank has reported; the final events go straight to the channel
    recorder.close()
    lines = recorder.unwritten_lines
    if recorder.write_file and recorder.path is None and lines:
        # Nothing opened the file (a tuner run has no setup hook): put the events in the run folder if there is
        # one, else beside the studio's private files.
        if log_dir and os.path.isdir(log_dir):
            with open(os.path.join(log_dir, "events.jsonl"), "a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
        else:
            _write_fallback(request, lines)


def _write_fallback(request: dict[str, Any], lines: list[str]) -> None:
    # A run that failed before the trainer made its run directory still leaves its events on disk.
    path = request.get("fallback_events_path")
    if not path or not lines:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
