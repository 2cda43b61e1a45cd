"""A run as an experiment: its name, tags and notes in ``run.yaml`` inside the run folder, and its hyper-parameters.

``run.yaml`` is small and written atomically (a temporary file in the same folder, then ``os.replace``), so an
interrupted save never leaves a half-written file and the run's own files are never touched. Reading never fails:
a missing or damaged file gives the defaults (the name from the script and a short id).

Examples:
    >>> meta = RunMeta(name="mlp lr sweep", tags=["baseline"])   # doctest: +SKIP
    >>> save_meta("runs/fit/lightning_logs/version_3", meta)      # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["META_FILE", "RunMeta", "MetricStats", "default_name", "flatten", "load_hparams", "load_meta",
           "metric_stats", "parent_run", "save_meta"]

META_FILE = "run.yaml"


@dataclass
class RunMeta:
    """What the user says about a run (kept in the run folder's ``run.yaml``)."""

    name: str = ""
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    parent: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The YAML mapping (empty fields left out)."""
        out: dict[str, Any] = {"name": self.name}
        if self.tags:
            out["tags"] = list(self.tags)
        if self.notes:
            out["notes"] = self.notes
        if self.parent:
            out["parent"] = self.parent
        return out


@dataclass
class MetricStats:
    """Last, best, min and max of one metric over a run (NaN when it has no finite value)."""

    last: float = math.nan
    best: float = math.nan
    min: float = math.nan
    max: float = math.nan


def default_name(script: str | None, run_id: str | None, folder: str) -> str:
    """``"<script stem> <short id>"``, e.g. ``"mlp_classifier 3f9a2c"`` (the folder name without a script)."""
    stem = Path(script).stem if script else Path(folder).name
    short = (run_id or "").replace("-", "")[:6]
    return f"{stem} {short}".strip()


def load_meta(folder: str | os.PathLike[str]) -> RunMeta:
    """The run's ``run.yaml`` (defaults where missing or unreadable)."""
    path = Path(folder) / META_FILE
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ImportError):
        return RunMeta()
    except Exception:  # yaml.YAMLError: a damaged file only costs the name, tags and notes it held
        return RunMeta()
    if not isinstance(data, dict):
        return RunMeta()
    tags = data.get("tags") or []
    return RunMeta(name=str(data.get("name") or ""),
                   tags=[str(t) for t in tags] if isinstance(tags, list) else [str(tags)],
                   notes=str(data.get("notes") or ""),
                   parent=str(data["parent"]) if data.get("parent") else None)


def save_meta(folder: str | os.PathLike[str], meta: RunMeta) -> Path:
    """Write ``meta`` to the run's ``run.yaml`` atomically; returns the path."""
    import yaml

    folder = Path(folder)
    target = folder / META_FILE
    text = yaml.safe_dump(meta.to_dict(), sort_keys=False, allow_unicode=True)
    handle, temp = tempfile.mkstemp(prefix=".run.", suffix=".yaml.tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


def flatten(mapping: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys: ``{"optim": {"lr": 0.1}}`` -> ``{"optim.lr": 0.1}``."""
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def load_hparams(folder: str | os.PathLike[str], fallback: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run's hyper-parameters from ``hparams.yaml`` (flattened); ``fallback`` when the file is absent."""
    path = Path(folder) / "hparams.yaml"
    try:
        import yaml

        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except Exception:  # absent or damaged: the run's own config (run_started) still names its hparams
        data = None
    if not isinstance(data, dict):
        data = fallback or {}
    return {k: v for k, v in flatten(data).items() if isinstance(v, (int, float, str, bool)) or v is None}


def metric_stats(values: list[float], mode: str) -> MetricStats:
    """Last/best/min/max of ``values``; ``mode`` ``"max"`` makes the maximum the best."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return MetricStats()
    low, high = min(finite), max(finite)
    return MetricStats(last=finite[-1], best=high if mode == "max" else low, min=low, max=high)


def parent_run(ckpt_path: object) -> str | None:
    """The run folder a checkpoint belongs to (``<run>/checkpoints/x.ckpt`` -> ``<run>``), or None."""
    if not isinstance(ckpt_path, str) or not ckpt_path:
        return None
    checkpoint = Path(ckpt_path)
    folder = checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent
    return str(folder) if (folder / "events.jsonl").is_file() else None
