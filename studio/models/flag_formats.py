"""Format rules for Trainer flags whose schema kinds admit free text (a duration, a device string, a path).

The schema says *which kinds* a flag takes (``str``, ``int``, ...); for some flags only certain strings or numbers are
meaningful, and the engine (trainer_core.flags) refuses the rest when the run starts. The GUI must not import the
engine, so the same rules live here, keyed by flag name (``gpus`` takes no "auto", unlike ``devices``). A rule
returns None for a good value, else what the flag accepts.

Examples:
    >>> format_problem("max_time", "00:01:00:00") is None
    True
    >>> format_problem("max_time", "1 hour")
    'a "DD:HH:MM:SS" string or a dict such as {\\'hours\\': 1}'
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

__all__ = ["format_problem"]

_TIMEDELTA_KEYS = ("weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _max_time(value: Any) -> str | None:
    accepted = "a \"DD:HH:MM:SS\" string or a dict such as {'hours': 1}"
    if value is None:
        return None
    if isinstance(value, dict):
        good = value and all(k in _TIMEDELTA_KEYS and _is_number(v) and v >= 0 for k, v in value.items())
        return None if good else f"{accepted} (keys: {', '.join(_TIMEDELTA_KEYS)}; values >= 0)"
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) == 4 and all(p.strip().isdigit() for p in parts):
            return None
    return accepted


def _track_grad_norm(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower() == "inf":
        return None
    if _is_number(value) and (value == -1 or value > 0) and not math.isnan(value):
        return None
    return "a positive number p (the p-norm), 'inf', or -1 to turn it off"


def _deterministic(value: Any) -> str | None:
    if value is None or isinstance(value, bool) or value == "warn":
        return None
    return "True, False, 'warn' or None"


def _devices(value: Any) -> str | None:
    if (isinstance(value, str) and value.strip().lower() == "auto") or _is_device_count(value):
        return None
    return "an int (count, -1 for all), a list of indices such as [0, 2], a string such as '0,2', or 'auto'"


def _gpus(value: Any) -> str | None:
    if _is_device_count(value):
        return None
    return "an int (count, -1 for all), a list of indices such as [0, 2], or a string such as '0,2'"


def _is_device_count(value: Any) -> bool:
    """The engine's device-count forms: None, an int >= -1, distinct indices, or "-1" / "2" / "0,2"."""
    if value is None:
        return True
    if _is_int(value):
        return value >= -1
    if isinstance(value, list):
        return bool(value) and all(_is_int(v) and v >= 0 for v in value) and len(set(value)) == len(value)
    if isinstance(value, str):
        text = value.strip()
        parts = [p.strip() for p in text.split(",") if p.strip()]
        return text == "-1" or (bool(parts) and all(p.isdigit() for p in parts))
    return False


def _auto_lr_find(value: Any) -> str | None:
    if isinstance(value, bool) or (isinstance(value, str) and value.isidentifier()):
        return None
    return "True, False or the name of the model attribute that holds the learning rate (such as 'lr')"


def _folder(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\0" in value or not value.strip():
        return "a folder path"
    path = os.path.expanduser(value)
    if os.path.exists(path) and not os.path.isdir(path):
        return "a folder path (this path is an existing file)"
    return None


def _checkpoint_file(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or "\0" in value or not value.strip():
        return "the path of a .ckpt file"
    if "://" in value:  # a remote URL: only the engine can check it
        return None
    if not os.path.isfile(os.path.expanduser(value)):
        return "the path of an existing .ckpt file (no file there)"
    return None


# Keyed by flag name: only flags whose schema kinds admit text need a rule (the kind check covers the others).
_RULES: dict[str, Callable[[Any], str | None]] = {
    "max_time": _max_time,
    "track_grad_norm": _track_grad_norm,
    "deterministic": _deterministic,
    "devices": _devices,
    "gpus": _gpus,
    "auto_lr_find": _auto_lr_find,
    "default_root_dir": _folder,
    "weights_save_path": _folder,
    "resume_from_checkpoint": _checkpoint_file,
}


def format_problem(name: str, value: Any) -> str | None:
    """What flag ``name`` accepts when ``value`` is not of an accepted format; None when it is (or no rule applies).

    Args:
        name: the flag.
        value: the parsed value (already of one of the flag's kinds).
    """
    rule = _RULES.get(name)
    return None if rule is None else rule(value)
