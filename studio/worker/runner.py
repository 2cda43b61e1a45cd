"""Run a spec dict through ``trainer_core.runner.execute``, the run API shared with the command line."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

__all__ = ["execute_spec"]


def execute_spec(spec: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> dict[str, Any]:
    """Run ``spec`` (RunSpec fields as a dict; unknown keys ignored) and return the RunResult as a plain dict."""
    from trainer_core.runner import RunSpec, execute
    from trainer_core.telemetry.events import json_safe

    fields = {f.name for f in dataclasses.fields(RunSpec)}
    result = execute(RunSpec(**{k: v for k, v in spec.items() if k in fields}), callbacks=list(callbacks))
    return json_safe(dataclasses.asdict(result))
