"""Build callback, logger and profiler objects named in a config or on the command line.

A YAML file or a command line cannot hold Python objects, so the Trainer flags that take objects (``callbacks``,
``logger``, ``profiler``, ``plugins``) accept what Lightning's CLI accepts: ``{"class_path": NAME, "init_args":
{...}}``, or just ``NAME``. NAME is a class of ``trainer_core.callbacks`` / ``loggers`` / ``profilers``
(``EarlyStopping``), its dotted path (``trainer_core.callbacks.EarlyStopping``), the PyTorch Lightning path of the
same class (``pytorch_lightning.callbacks.EarlyStopping``), or ``package.module.Class`` of your own.

Examples:
    >>> flags = instantiate_flag_objects(
    ...     {"callbacks": [{"class_path": "EarlyStopping", "init_args": {"monitor": "val_loss"}}]})  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from trainer_core.exceptions import MisconfigurationError

__all__ = ["instantiate_flag_objects", "resolve_class_path"]

_OBJECT_FLAGS = ("callbacks", "logger", "profiler", "plugins")
_HOMES = ("trainer_core.callbacks", "trainer_core.loggers", "trainer_core.profilers", "trainer_core.plugins")
_LIGHTNING_PREFIXES = ("pytorch_lightning.", "lightning.pytorch.", "lightning.")


def _builtin_classes() -> dict[str, type]:
    found: dict[str, type] = {}
    for home in _HOMES:
        try:
            module = importlib.import_module(home)
        except ImportError:  # pragma: no cover - a package not written yet
            continue
        for name in getattr(module, "__all__", dir(module)):
            obj = getattr(module, name, None)
            if inspect.isclass(obj):
                found.setdefault(name, obj)
    return found


def resolve_class_path(path: str, flag: str) -> type:
    """The class a ``class_path`` names (see the module docstring).

    Raises:
        MisconfigurationError: the name matches no class; the message suggests the closest built-in one.
    """
    builtins = _builtin_classes()
    short = path.rsplit(".", 1)[-1]
    if "." not in path or path.startswith(_HOMES) or path.startswith(_LIGHTNING_PREFIXES):
        if short in builtins:
            return builtins[short]
    if "." in path and not path.startswith(_LIGHTNING_PREFIXES):
        module_name, _, attr = path.rpartition(".")
        try:
            obj = getattr(importlib.import_module(module_name), attr, None)
        except ImportError:
            obj = None
        if inspect.isclass(obj):
            return obj
    close = difflib.get_close_matches(short, list(builtins), n=1)
    tip = f" Did you mean `{close[0]}`?" if close else ""
    raise MisconfigurationError(
        f"`{flag}`: no class `{path}`.{tip} Use a class of trainer_core.callbacks, trainer_core.loggers, "
        "trainer_core.profilers or trainer_core.plugins by name, or the full dotted path of your own class."
    )


def _build(spec: Any, flag: str) -> Any:
    if isinstance(spec, str) and flag in ("callbacks", "logger", "plugins"):
        spec = {"class_path": spec}
    if not (isinstance(spec, Mapping) and "class_path" in spec):
        return spec
    extra = set(spec) - {"class_path", "init_args"}
    if extra:
        raise MisconfigurationError(f"`{flag}`: unknown key(s) {', '.join(sorted(map(str, extra)))} next to "
                                    "class_path; only `class_path` and `init_args` are accepted.")
    cls = resolve_class_path(str(spec["class_path"]), flag)
    args = spec.get("init_args") or {}
    if not isinstance(args, Mapping):
        raise MisconfigurationError(f"`{flag}`: init_args of {cls.__name__} must be a mapping, not {args!r}.")
    try:
        return cls(**args)
    except TypeError as err:
        raise MisconfigurationError(f"`{flag}`: {cls.__name__}({', '.join(f'{k}={v!r}' for k, v in args.items())}) "
                                    f"failed: {err}.") from err


def instantiate_flag_objects(flags: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``flags`` with every ``class_path`` spec in an object flag replaced by the object it describes."""
    out = dict(flags)
    for flag in _OBJECT_FLAGS:
        value = out.get(flag)
        if flag == "logger" and isinstance(value, bool):
            continue
        if isinstance(value, (list, tuple)):
            out[flag] = [_build(item, flag) for item in value]
        elif value is not None:
            built = _build(value, flag)
            out[flag] = [built] if flag == "callbacks" and not isinstance(built, list) else built
    return out
