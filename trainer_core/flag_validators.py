"""Validators of the Trainer flag schema: each takes (flag name, value) and returns the normalised value.

They raise ``MisconfigurationError`` naming the flag, the value given and what is accepted.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping
from typing import Any

from trainer_core.exceptions import MisconfigurationError

Validator = Callable[[str, Any], Any]



def _fail(name: str, value: Any, accepted: str) -> MisconfigurationError:
    return MisconfigurationError(f"`{name}={value!r}` is not valid: {name} accepts {accepted}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _fail(name, value, "True or False")


def check_optional_bool(name: str, value: Any) -> bool | None:
    return None if value is None else check_bool(name, value)


def check_int_at_least(minimum: int, allow_none: bool = True) -> Validator:
    def check(name: str, value: Any) -> int | None:
        if value is None and allow_none:
            return None
        if _is_int(value) and value >= minimum:
            return value
        extra = " or None" if allow_none else ""
        raise _fail(name, value, f"an integer >= {minimum}{extra}")

    return check


def check_reload_every(name: str, value: Any) -> int:
    """``reload_dataloaders_every_n_epochs``: an int >= 0; True means 1 and False 0 (1.5 accepts both)."""
    if isinstance(value, bool):
        return int(value)
    if _is_int(value) and value >= 0:
        return value
    raise _fail(name, value, "an integer >= 0 (0: load once), or True for every epoch")


def check_max_epochs(name: str, value: Any) -> int | None:
    if value is None or (_is_int(value) and (value >= 0 or value == -1)):
        return value
    raise _fail(name, value, "an integer >= 0, -1 for no limit, or None")


def check_max_steps(name: str, value: Any) -> int:
    if value is None:
        return -1
    if _is_int(value) and (value >= 0 or value == -1):
        return value
    raise _fail(name, value, "an integer >= 0 or -1 for no limit")


def normalize_limit(name: str, value: Any, *, allow_none: bool = True) -> int | float:
    """The 1.x rule for ``limit_*``, ``val_check_interval`` and ``overfit_batches``.

    A value in [0, 1] is kept as given (int ``1`` means one batch, float ``1.0`` means all); a value > 1 must be
    integral and becomes an int; anything else is an error.
    """
    if value is None and allow_none:
        return 1.0
    if not _is_number(value):
        raise _fail(name, value, "an int (number of batches) or a float in [0.0, 1.0] (fraction of batches)")
    if 0 <= value <= 1:
        return value
    if value > 1 and float(value).is_integer():
        return int(value)
    raise _fail(name, value, "an int (number of batches) or a float in [0.0, 1.0] (fraction of batches)")


def check_limit(name: str, value: Any) -> int | float:
    return normalize_limit(name, value)


def check_overfit(name: str, value: Any) -> int | float:
    if value is None:
        return 0.0
    return normalize_limit(name, value)


def check_fast_dev_run(name: str, value: Any) -> bool | int:
    # True stays True (1.5: Trainer(fast_dev_run=True).fast_dev_run is True); it runs one batch like 1.
    if isinstance(value, bool):
        return value
    if _is_int(value) and value >= 0:
        return value
    raise _fail(name, value, "True, False or an integer >= 0 (number of batches)")


def check_num_sanity(name: str, value: Any) -> int:
    if value is None:
        return 2
    if _is_int(value) and value >= -1:
        return value
    raise _fail(name, value, "an integer >= 0, or -1 to run all validation batches")


def check_max_time(name: str, value: Any) -> _dt.timedelta | None:
    if value is None:
        return None
    if isinstance(value, _dt.timedelta):
        return value
    if isinstance(value, Mapping):
        try:
            return _dt.timedelta(**{str(k): float(v) for k, v in value.items()})
        except TypeError as err:
            raise _fail(name, value, "a dict of timedelta keys (days, hours, minutes, seconds)") from err
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) == 4 and all(p.strip().isdigit() for p in parts):
            days, hours, minutes, seconds = (int(p) for p in parts)
            return _dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    raise _fail(name, value, 'a "DD:HH:MM:SS" string, a datetime.timedelta or a dict such as {"hours": 1}')


def check_val_check_interval(name: str, value: Any) -> int | float:
    if value is None:
        return 1.0
    if _is_number(value) and value > 0:
        return normalize_limit(name, value)
    raise _fail(name, value, "an int > 0 (every N training batches) or a float in (0.0, 1.0] (fraction of an epoch)")


def check_check_val_every(name: str, value: Any) -> int | None:
    if value is None or (_is_int(value) and value >= 1):
        return value
    raise _fail(name, value, "an integer >= 1 (or None to count val_check_interval across epochs)")


def check_accumulate(name: str, value: Any) -> int | dict[int, int]:
    if value is None:
        return 1
    if _is_int(value):
        if value >= 1:
            return value
        raise _fail(name, value, "an integer >= 1 or a dict {epoch: factor}")
    if isinstance(value, Mapping):
        if not value:
            raise _fail(name, value, "a non-empty dict {epoch: factor} with int keys >= 0 and int values >= 1")
        out: dict[int, int] = {}
        for key, factor in value.items():
            if isinstance(key, str) and key.strip().lstrip("-").isdigit():
                key = int(key)  # YAML/CLI dicts may carry string keys
            if not _is_int(key) or not _is_int(factor):
                raise _fail(name, value, "a dict {epoch: factor} whose keys and values are integers")
            if key < 0:
                raise _fail(name, value, "a dict {epoch: factor} with epoch keys >= 0 (epochs are 0-based)")
            if factor < 1:
                raise _fail(name, value, "a dict {epoch: factor} with factors >= 1")
            out[key] = factor
        return out
    raise _fail(name, value, "only an int or a dict {epoch: factor}")


def check_clip_val(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if _is_number(value) and math.isfinite(value):
        return float(value)
    raise _fail(name, value, "a finite number (values <= 0 turn clipping off) or None")


def check_choice(*choices: Any, allow_none: bool = True) -> Validator:
    def check(name: str, value: Any) -> Any:
        if value is None and allow_none:
            return None
        if isinstance(value, str) and value.lower() in [str(c).lower() for c in choices if isinstance(c, str)]:
            return value.lower()
        if value in choices and not isinstance(value, bool):
            return value
        listed = ", ".join(repr(c) for c in choices) + (" or None" if allow_none else "")
        raise _fail(name, value, listed)

    return check


def check_track_grad_norm(name: str, value: Any) -> float:
    if value is None:
        return -1.0
    if isinstance(value, str) and value.lower() == "inf":
        return math.inf
    if _is_number(value) and (value == -1 or (value > 0)):
        return float(value)
    raise _fail(name, value, 'a positive number p (the p-norm), "inf", or -1 to turn it off')


def check_precision(name: str, value: Any) -> str:
    mapping = {
        32: "32-true",
        "32": "32-true",
        "32-true": "32-true",
        16: "16-mixed",
        "16": "16-mixed",
        "16-mixed": "16-mixed",
        "16-true": "16-true",
        "bf16": "bf16-mixed",
        "bf16-mixed": "bf16-mixed",
        "bf16-true": "bf16-true",
        64: "64-true",
        "64": "64-true",
        "64-true": "64-true",
    }
    key = value.lower() if isinstance(value, str) else value
    if isinstance(key, bool) or key not in mapping:
        raise _fail(name, value, '32, 16, "bf16", 64 or a 2.x string ("32-true", "16-mixed", "bf16-mixed", '
                    '"64-true", "16-true", "bf16-true")')
    return mapping[key]


def check_gpus(name: str, value: Any) -> Any:
    if value is None:
        return None
    if _is_int(value) and value >= -1:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "-1" or text.isdigit() or all(p.strip().isdigit() for p in text.split(",") if p.strip()):
            return text
    if isinstance(value, (list, tuple)) and all(_is_int(v) and v >= 0 for v in value):
        return list(value)
    raise _fail(name, value, 'None, an int (count, -1 for all), a list of indices or a string such as "0,2"')


def check_devices(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return check_gpus(name, value)


def check_accelerator(name: str, value: Any) -> str | None:
    accepted = ("cpu", "gpu", "cuda", "tpu", "auto", "dp", "ddp", "ddp_spawn", "ddp_cpu", "ddp2")
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in accepted:
        return value.lower()
    raise _fail(name, value, ", ".join(repr(a) for a in accepted) + " or None")


def check_strategy(name: str, value: Any) -> Any:
    accepted = ("auto", "dp", "ddp", "ddp_spawn", "ddp_cpu", "ddp2", "ddp_find_unused_parameters_false",
                "ddp_spawn_find_unused_parameters_false", "single_device")
    if value is None:
        return None
    if isinstance(value, str):
        if value.lower() in accepted:
            return value.lower()
        raise _fail(name, value, ", ".join(repr(a) for a in accepted) + " or None")
    return value  # a Strategy object


def check_tpu_cores(name: str, value: Any) -> Any:
    if value is None:
        return None
    if _is_int(value) and value in (1, 8):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 1 and _is_int(value[0]) and 1 <= value[0] <= 8:
        return list(value)
    if isinstance(value, str) and value.strip() in ("1", "8"):
        return int(value)
    raise _fail(name, value, "1, 8, a one-element list [k] with k in 1..8, or None")


def check_profiler(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        if value.lower() in ("simple", "advanced", "pytorch"):
            return value.lower()
        raise _fail(name, value, '"simple", "advanced", "pytorch", a Profiler instance or None')
    if hasattr(value, "profile") and hasattr(value, "start") and hasattr(value, "stop"):
        return value
    raise _fail(name, value, '"simple", "advanced", "pytorch", a Profiler instance or None')


def check_logger(name: str, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    items = value if isinstance(value, (list, tuple)) else [value]
    if all(hasattr(item, "log_metrics") for item in items):
        return value
    raise _fail(name, value, "True, False, a Logger or a list of Loggers")


def check_callbacks(name: str, value: Any) -> list[Any]:
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if not hasattr(item, "on_fit_start"):
            raise _fail(name, value, "a Callback or a list of Callbacks")
    return items


def check_str_or_none(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if (isinstance(value, str) or hasattr(value, "__fspath__")) and "\0" not in str(value):
        return str(value)  # a NUL byte fits no file name: the OS call would fail later with ValueError
    raise _fail(name, value, "a path string (without NUL characters) or None")


def check_auto_lr(name: str, value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isidentifier():
        return value
    raise _fail(name, value, "True, False or the name of the attribute holding the learning rate")


def check_auto_bs(name: str, value: Any) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("power", "binsearch", "fit"):
        return value.lower()
    raise _fail(name, value, 'True, False, "power", "binsearch" or "fit"')


def check_deterministic(name: str, value: Any) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if value == "warn":
        return value
    raise _fail(name, value, 'True, False, "warn" or None')


def check_refresh_rate(name: str, value: Any) -> int | None:
    if value is None or (_is_int(value) and value >= 0):
        return value
    raise _fail(name, value, "an integer >= 0 (0 disables the bar) or None")


def _any(name: str, value: Any) -> Any:
    return value


def check_plugins(name: str, value: Any) -> Any:
    # Plugins are Python objects; 1.x plugin names ("ddp_sharded", ...) and plain data would be ignored silently.
    items = value if isinstance(value, (list, tuple)) else [value]
    if value is not None and any(isinstance(item, (str, bytes, int, float, dict, list, tuple)) or item is None
                                 for item in items):
        raise _fail(name, value, "None, a plugin object (for example a Precision plugin) or a list of them")
    return value
