"""Follow a run's event stream: ``python -m trainer_core.follow RUN_DIR [--offset BYTES]``.

Writes the lines of ``RUN_DIR/events.jsonl`` to stdout unchanged, each complete line exactly once, from the start
or from byte ``--offset``, as they are appended, and exits when the run has ended. The studio runs this over SSH
(``ssh host python -m trainer_core.follow RUN_DIR --offset N``) to follow a run on another machine: after a dropped
connection it reconnects with the offset of the last byte it received, so nothing is shown twice or lost.

A run has ended with its ``run_finished`` event (studio runs), or with the ``stage_finished`` event of the stage its
mode runs (``fit`` for fit and debug runs, ``validate``, ``test``, ``predict``, ``tune``): command-line, torchrun and
SLURM runs write no ``run_finished``. Exit status: 0 the run ended, 2 bad input, 3 ``--stall`` seconds passed without
a new line (the run may have died), 130 interrupted.

The file is polled (every ``--poll`` seconds, 0.2 by default): a light read of the file's size, with no
dependency on file-system notification support, which remote and network file systems often lack.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any, BinaryIO

__all__ = ["RunEndWatcher", "follow", "main", "MAIN_STAGE"]

# The stage whose end ends a run of each mode (the modes of `trainer-core` and the studio).
MAIN_STAGE = {"fit": "fit", "debug": "fit", "validate": "validate", "test": "test", "predict": "predict",
              "tune": "tune"}


class RunEndWatcher:
    """Reads events one by one and says when the run has ended (see the module docstring for the rule)."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.ended = False
        self.status: str | None = None

    def feed(self, event: dict[str, Any]) -> bool:
        """Take one event; True when it ends the run."""
        kind = event.get("type")
        if kind == "run_started":
            self.mode = str(event.get("mode") or "") or None
        elif kind == "run_finished":
            self.ended, self.status = True, str(event.get("status") or "finished")
        elif kind == "stage_finished":
            stage = event.get("stage")
            main_stage = MAIN_STAGE.get(self.mode or "")
            if stage == main_stage or (main_stage is None and event.get("status") in ("failed", "interrupted")):
                self.ended, self.status = True, str(event.get("status") or "finished")
        return self.ended


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:  # a garbage line is passed on unchanged; it just cannot end the run
        return None
    return value if isinstance(value, dict) else None


def follow(path: str, out: BinaryIO, *, offset: int = 0, poll_s: float = 0.2, stall_s: float | None = None,
           sleep: Callable[[float], None] = time.sleep) -> int:
    """Copy complete lines of ``path`` from ``offset`` to ``out`` until the run ends; return the exit status.

    Lines before ``offset`` are not written, but they are read so the end rule knows the run's mode.
    """
    watcher = RunEndWatcher()
    position = 0  # bytes read from the file
    consumed = 0  # bytes of complete lines handled (the start of ``buffer`` in the file)
    buffer = b""
    last_new = time.monotonic()
    while True:
        try:
            size = os.path.getsize(path)
        except FileNotFoundError:
            size = -1  # the run folder exists but the trainer has not written its first event yet
        if size > position:
            with open(path, "rb") as handle:
                handle.seek(position)
                chunk = handle.read(size - position)
            position += len(chunk)
            buffer += chunk
            while (newline := buffer.find(b"\n")) >= 0:
                line, buffer = buffer[:newline], buffer[newline + 1:]
                start, consumed = consumed, consumed + newline + 1
                if start >= offset:
                    out.write(line + b"\n")
                event = _event(line)
                if event is not None and watcher.feed(event):
                    out.flush()
                    return 0
            out.flush()
            last_new = time.monotonic()
        elif stall_s is not None and time.monotonic() - last_new > stall_s:
            return 3
        sleep(poll_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainer_core.follow", description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", help="a run folder (holding events.jsonl) or the events.jsonl file itself")
    parser.add_argument("--offset", type=int, default=0, metavar="BYTES",
                        help="start after this many bytes (the size already received)")
    parser.add_argument("--poll", type=float, default=0.2, metavar="S", help="seconds between looks at the file")
    parser.add_argument("--stall", type=float, default=None, metavar="S",
                        help="exit with status 3 after S seconds without a new line")
    args = parser.parse_args(argv)
    path = args.run_dir if args.run_dir.endswith(".jsonl") else os.path.join(args.run_dir, "events.jsonl")
    if not os.path.isdir(os.path.dirname(path) or "."):
        print(f"trainer_core.follow: error: {os.path.dirname(path)} is not a folder; give a run folder "
              "(lightning_logs/version_N).", file=sys.stderr)
        return 2
    if args.offset < 0:
        print("trainer_core.follow: error: --offset must be 0 or more.", file=sys.stderr)
        return 2
    try:
        return follow(path, sys.stdout.buffer, offset=args.offset, poll_s=args.poll, stall_s=args.stall)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (a dropped SSH connection): nothing left to do
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
