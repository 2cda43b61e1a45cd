"""When a run's event stream has ended: the rule the studio applies to a followed ``events.jsonl``.

A run has ended with its ``run_finished`` event (studio runs), or with the ``stage_finished`` event of the stage its
mode runs (``fit`` for fit and debug, ``validate``, ``test``, ``predict``, ``tune``), because command-line, torchrun
and SLURM runs write no ``run_finished``. The engine's ``python -m trainer_core.follow`` applies the same rule (the
GUI never imports the engine; a test checks that the two agree).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from studio.protocol.stream import well_formed

__all__ = ["MAIN_STAGE", "RunEnd", "decode_lines", "events_path", "is_live_run"]

_TAIL = 1024 * 1024  # bytes of a file's end looked at to decide whether its run is still going

MAIN_STAGE = {"fit": "fit", "debug": "fit", "validate": "validate", "test": "test", "predict": "predict",
              "tune": "tune"}


class RunEnd:
    """Reads events one by one and says when the run has ended, and how."""

    def __init__(self) -> None:
        self.mode: str | None = None
        self.ended = False
        self.status: str | None = None
        self.reason = ""

    def feed(self, event: dict[str, Any]) -> bool:
        """Take one event; True when it ends the run."""
        kind = event.get("type")
        if kind == "run_started":
            self.mode = str(event.get("mode") or "") or None
        elif kind == "run_finished":
            self.ended, self.status = True, str(event.get("status") or "finished")
            self.reason = str(event.get("reason") or "")
        elif kind == "stage_finished":
            stage = event.get("stage")
            main_stage = MAIN_STAGE.get(self.mode or "")
            if stage == main_stage or (main_stage is None and event.get("status") in ("failed", "interrupted")):
                self.ended, self.status = True, str(event.get("status") or "finished")
        elif kind == "exception" and not self.reason:
            self.reason = f"{event.get('exc_type')}: {event.get('message')}"
        return self.ended


def events_path(path: str | os.PathLike[str]) -> Path:
    """The events file of a run folder (or the file itself)."""
    path = Path(path)
    return path / "events.jsonl" if path.is_dir() else path


def is_live_run(path: str | os.PathLike[str], *, stall_s: float = 120.0) -> bool:
    """Whether the run at ``path`` looks still running: no end event, and its file written within ``stall_s``.

    Only the first line (the run's mode) and the last MiB are read, so a huge finished file is judged quickly.
    """
    file = events_path(path)
    try:
        if time.time() - file.stat().st_mtime > stall_s:
            return False
        with open(file, "rb") as handle:
            first = handle.readline()
            handle.seek(max(0, file.stat().st_size - _TAIL))
            tail = handle.read()
    except OSError:
        return False
    end = RunEnd()
    for line in [first, *tail.split(b"\n")[1:]]:
        for event in decode_lines([line]):
            if end.feed(event):
                return False
    return True


def decode_lines(lines: list[bytes]) -> list[dict[str, Any]]:
    """The well-formed events among raw ``events.jsonl`` lines (blank, garbage and malformed ones left out)."""
    items = []
    for line in lines:
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except (ValueError, RecursionError):
            items.append(None)  # counted as dropped by well_formed
    events, _dropped = well_formed(items)
    return events
