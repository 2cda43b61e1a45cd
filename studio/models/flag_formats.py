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


def _int_at_least(minimum: int, *, minus_one: bool = False, none: bool = True) -> Callable[[Any], str | None]:
    """An int >= ``minimum`` (or -1 with ``minus_one``; or None with ``none``)."""
    def rule(value: Any) -> str | None:
        if (value is None and none) or (_is_int(value) and (value >= minimum or (minus_one and value == -1))):
            return None
        return f"an integer >= {minimum}" + (", or -1 for no limit" if minus_one else "") + (
            " (or None)" if none else "")

    return rule


def _limit(value: Any) -> str | None:
    # 1.x: a fraction in [0.0, 1.0], or a whole number of batches (1 means one batch, 1.0 all of them).
    if value is None or (_is_number(value) and (0 <= value <= 1 or (value > 1 and float(value).is_integer()))):
        return None
    return "an int >= 0 (number of batches) or a float in [0.0, 1.0] (fraction of batches)"


def _val_check_interval(value: Any) -> str | None:
    if value is None or (_is_number(value) and value > 0 and (value <= 1 or float(value).is_integer())):
        return None
    return "an int > 0 (every N training batches) or a float in (0.0, 1.0] (fraction of an epoch)"


def _accumulate(value: Any) -> str | None:
    accepted = "an integer >= 1, or a dict {epoch: factor} with epochs >= 0 and factors >= 1"
    if value is None or (_is_int(value) and value >= 1):
        return None
    if isinstance(value, dict) and value:
        for key, factor in value.items():
            if isinstance(key, str) and key.strip().isdigit():
                key = int(key)
            if not (_is_int(key) and key >= 0 and _is_int(factor) and factor >= 1):
                return accepted
        return None
    return accepted


# Keyed by flag name: flags whose schema kinds admit text, and numbers the engine takes only in a range.
_RULES: dict[str, Callable[[Any], str | None]] = {
    "max_epochs": _int_at_least(0, minus_one=True),
    "max_steps": _int_at_least(0, minus_one=True),
    "min_epochs": _int_at_least(0),
    "min_steps": _int_at_least(0),
    "num_sanity_val_steps": _int_at_least(0, minus_one=True),
    "check_val_every_n_epoch": _int_at_least(1),
    "log_every_n_steps": _int_at_least(1, none=False),
    "limit_train_batches": _limit,
    "limit_val_batches": _limit,
    "limit_test_batches": _limit,
    "limit_predict_batches": _limit,
    "overfit_batches": _limit,
    "val_check_interval": _val_check_interval,
    "accumulate_grad_batches": _accumulate,
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
