"""Trainer flag defaults from the environment, as Lightning 1.x reads them: ``PL_TRAINER_MAX_EPOCHS=3``.

For every flag ``name`` of a Trainer class ``Cls`` the variable ``PL_{CLS}_{NAME}`` (upper case; a subclass reads
its own class name) supplies the value when the script does not pass that flag. The text is read as a Python
literal (``2``, ``0.5``, ``True``, ``None``, ``[0, 1]``) and kept as a string otherwise (``"ddp"``); an empty
variable counts as unset. ``1``/``0`` for a flag that takes only a bool (``deterministic``) read as True/False.
A flag the script passes, or one whose other spelling it passes (``devices`` for ``gpus``), keeps the script's
value.

Examples:
    >>> env_flag_defaults("Trainer", {}, {"PL_TRAINER_LIMIT_TRAIN_BATCHES": "2", "PL_TRAINER_STRATEGY": "ddp"})
    {'limit_train_batches': 2, 'strategy': 'ddp'}
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from typing import Any

from trainer_core.flags import FLAGS

__all__ = ["env_flag_defaults"]


def env_flag_defaults(class_name: str, given: Mapping[str, Any],
                      environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The flags the environment sets for a Trainer class, leaving out those ``given`` already decides.

    Args:
        class_name: the Trainer class's name (``"Trainer"`` reads ``PL_TRAINER_*``).
        given: the keywords the script passed.
        environ: the environment to read (``os.environ`` when None).
    """
    environ = os.environ if environ is None else environ
    prefix = f"PL_{class_name.upper()}_"
    if not any(key.startswith(prefix) for key in environ):  # the usual case costs one scan of the keys
        return {}
    taken = {FLAGS[name].setting or name for name in given if name in FLAGS}
    found: dict[str, Any] = {}
    for name, flag in FLAGS.items():
        raw = environ.get(prefix + name.upper())
        if raw is None or raw == "" or name in given or (flag.setting or name) in taken:
            continue
        value = _literal(raw)
        # Shell users switch a boolean flag with 1/0 (PL_TRAINER_DETERMINISTIC=1); 1.x passed that int on and its
        # Trainer took it as truthy. A flag that accepts only bools (not counts) gets True/False.
        if type(value) is int and value in (0, 1) and "bool" in flag.kinds and "int" not in flag.kinds:
            value = bool(value)
        found[name] = value
    return found


def _literal(raw: str) -> Any:
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw
