"""When a run's event stream has ended: the rule the studio applies to a followed ``events.jsonl``.

A run has ended with its ``run_finished`` event (studio runs), or with the ``stage_finished`` event of the stage its
mode runs (``fit`` for fit and debug, ``validate``, ``test``, ``predict``, ``tune``), because command-line, torchrun
and SLURM runs write no ``run_finished``. The engine's ``python -m trainer_core.follow`` applies the same rule (the
GUI never imports the engine; a test checks that the two agree).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MAIN_STAGE", "RunEnd"]

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
