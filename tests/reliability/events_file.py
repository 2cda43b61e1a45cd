"""Writing a big ``events.jsonl`` quickly, and reading it the way the studio reopens a run, measuring memory.

Used by ``test_reliability_big_events.py``; ``python -m tests.reliability.events_file PATH`` reads PATH in this
fresh process and prints one JSON line (seconds, CPU seconds, peak RSS growth in MB, points per series, newest step
per series, what was left out), so the memory figure is this process's own.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

_BLOCK_STEPS = 2_000
VAL_EVERY = 1_000
"""A validation metrics event every this many steps (a sparse series that must survive thinning whole)."""


def _block(first_step: int) -> bytes:
    """Events for ``_BLOCK_STEPS`` training steps from ``first_step``: metrics, a progress sample, a sparse
    validation event, a log line and a histogram now and then, as the recorder writes them."""
    lines = []
    for step in range(first_step, first_step + _BLOCK_STEPS):
        epoch = step // 10_000
        lines.append(f'{{"type": "metrics", "run_id": "big", "seq": {step}, "time": {1.7e9 + step * 0.01:.2f}, '
                     f'"step": {step}, "epoch": {epoch}, "metrics": {{"train_loss": {1.0 / (step + 1):.6f}, '
                     f'"lr": 0.001}}}}')
        if step % 10 == 0:
            lines.append(f'{{"type": "progress", "run_id": "big", "seq": {step}, "time": {1.7e9 + step * 0.01:.2f}, '
                         f'"stage": "train", "epoch": {epoch}, "step": {step}, "batch": {step % 10_000}, '
                         f'"num_batches": 10000, "metrics": {{"loss": {1.0 / (step + 1):.6f}}}}}')
        if step % VAL_EVERY == VAL_EVERY - 1:
            lines.append(f'{{"type": "metrics", "run_id": "big", "seq": {step}, "step": {step}, "epoch": {epoch}, '
                         f'"metrics": {{"val_loss": {2.0 / (step + 1):.6f}, "val_acc": 0.5}}}}')
            lines.append(f'{{"type": "log", "level": "info", "text": "validation at step {step}"}}')
            counts = ", ".join(str((step + i) % 97) for i in range(64))
            lines.append(f'{{"type": "histogram", "tag": "weights", "step": {step}, "min": -1.0, "max": 1.0, '
                         f'"counts": [{counts}]}}')
    return ("\n".join(lines) + "\n").encode()


def write_events_file(path: Path, size_bytes: int) -> int:
    """Write at least ``size_bytes`` of events to ``path``; returns the last training step written.

    Blocks of steps are formatted once and written with ``os.write`` in big pieces, so a gigabyte takes seconds.
    """
    header = (b'{"type": "run_started", "run_id": "big", "mode": "fit", "time": 1700000000.0}\n'
              b'{"type": "stage_started", "stage": "train", "max_epochs": 1000}\n')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, header)
        written, step = len(header), 0
        while written < size_bytes:
            block = _block(step)
            os.write(fd, block)
            written += len(block)
            step += _BLOCK_STEPS
        os.write(fd, b'{"type": "stage_finished", "stage": "train", "status": "finished"}\n')
    finally:
        os.close(fd)
    return step - 1


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def open_like_the_studio(path: Path) -> dict[str, Any]:
    """Read ``path`` and replay it into a run model, as reopening a run does; what it cost and what it shows."""
    from studio.models.run_state import RunModel
    from studio.protocol.stream import read_events_file

    before = _rss_mb()
    cpu_before = _cpu_s()
    started = time.monotonic()
    read = read_events_file(path)
    model = RunModel()
    model.apply(read.events)
    seconds = time.monotonic() - started
    cpu = _cpu_s() - cpu_before
    series = {name: model.metrics.series(name) for name in model.metrics.names()}
    return {
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # the wall time on a machine shared with other work overstates the cost
        "rss_growth_mb": round(_rss_mb() - before, 1),
        "points": {name: len(s) for name, s in series.items()},
        "last_step": {name: float(s.last()[0]) for name, s in series.items() if s.last() is not None},
        "thinned": read.thinned,
        "skipped": read.skipped,
        "histograms": len(model.media.histogram_matrix("weights")[0]) if model.media.histogram_tags() else 0,
        "console": len(model.console),
        "note": read.skipped_note(path),
    }


if __name__ == "__main__":
    print(json.dumps(open_like_the_studio(Path(sys.argv[1]))))
