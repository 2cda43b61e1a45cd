"""The event types the studio understands (a copy of trainer_core.telemetry.events' names; a test keeps them equal).

The GUI process must not import trainer_core (it would pull in torch), hence the copy. Besides the recorder's
events the worker adds nothing new: log lines, the final ``run_finished`` and worker failures use the same types.
"""

from __future__ import annotations

import signal

__all__ = [
    "RUN_STARTED",
    "STAGE_STARTED",
    "STAGE_FINISHED",
    "EPOCH_STARTED",
    "EPOCH_FINISHED",
    "PROGRESS",
    "METRICS",
    "MODEL_SUMMARY",
    "LR_FIND_POINT",
    "BATCH_SIZE_TRIAL",
    "PROFILER_REPORT",
    "CHECKPOINT_SAVED",
    "LOG",
    "EXCEPTION",
    "RUN_FINISHED",
    "IMAGE",
    "HISTOGRAM",
    "TEXT",
    "EVENT_TYPES",
    "METRICS_BLOCK",
    "NEVER_DROPPED",
    "exit_code_meaning",
]

RUN_STARTED = "run_started"
STAGE_STARTED = "stage_started"
STAGE_FINISHED = "stage_finished"
EPOCH_STARTED = "epoch_started"
EPOCH_FINISHED = "epoch_finished"
PROGRESS = "progress"
METRICS = "metrics"
MODEL_SUMMARY = "model_summary"
LR_FIND_POINT = "lr_find_point"
BATCH_SIZE_TRIAL = "batch_size_trial"
PROFILER_REPORT = "profiler_report"
CHECKPOINT_SAVED = "checkpoint_saved"
LOG = "log"
EXCEPTION = "exception"
RUN_FINISHED = "run_finished"
IMAGE = "image"
HISTOGRAM = "histogram"
TEXT = "text"

# Not an event of the stream: the pipe's columnar packing of consecutive metrics events (studio.worker.channel.pack),
# unpacked by the GUI's run model.
METRICS_BLOCK = "_metrics_block"

EVENT_TYPES: tuple[str, ...] = (
    RUN_STARTED,
    STAGE_STARTED,
    STAGE_FINISHED,
    EPOCH_STARTED,
    EPOCH_FINISHED,
    PROGRESS,
    METRICS,
    MODEL_SUMMARY,
    LR_FIND_POINT,
    BATCH_SIZE_TRIAL,
    PROFILER_REPORT,
    CHECKPOINT_SAVED,
    LOG,
    EXCEPTION,
    RUN_FINISHED,
    IMAGE,
    HISTOGRAM,
    TEXT,
)

NEVER_DROPPED: frozenset[str] = frozenset(t for t in EVENT_TYPES if t != PROGRESS)

_SIGNAL_HINTS = {
    "SIGKILL": "killed (by the user, or by the system's out-of-memory killer if nobody stopped it)",
    "SIGSEGV": "segmentation fault in native code (a crash inside a C/C++/CUDA extension)",
    "SIGABRT": "aborted by native code (an assertion or fatal error inside a library)",
    "SIGTERM": "terminated",
    "SIGBUS": "bus error in native code",
    "SIGFPE": "floating-point exception in native code",
    "SIGILL": "illegal instruction (a library built for another CPU)",
}


def exit_code_meaning(code: int | None) -> str:
    """A human sentence for a child's ``exitcode`` (negative values are signals on POSIX)."""
    if code is None:
        return "still running"
    if code == 0:
        return "exited normally (exit code 0)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = _SIGNAL_HINTS.get(name, "ended by a signal")
        return f"{hint} ({name}, exit code {code})"
    if code == 1:
        return "exited with an error (exit code 1)"
    return f"exited with exit code {code} (the script or a library called sys.exit/os._exit)"
