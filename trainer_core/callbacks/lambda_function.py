"""``LambdaCallback`` (1.x): a callback made of plain functions, one per hook."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["LambdaCallback"]

# Every hook a callback can implement: the public methods Callback defines (not its helpers).
_HOOKS = frozenset(name for name, value in vars(Callback).items()
                   if callable(value) and (name.startswith("on_") or name in ("setup", "teardown")))


class LambdaCallback(Callback):
    """Run the given functions at their hooks, with the hook's arguments.

    Examples:
        >>> callback = LambdaCallback(on_train_start=lambda trainer, pl_module: print("starting"))
        >>> "on_train_start" in vars(callback)
        True

    Raises:
        MisconfigurationError: a keyword that is not a callback hook (with the closest hook name).
    """

    def __init__(self, **hooks: Callable[..., Any] | None) -> None:
        for name, function in hooks.items():
            if name not in _HOOKS:
                import difflib

                close = difflib.get_close_matches(name, sorted(_HOOKS), n=1)
                tip = f" Did you mean `{close[0]}`?" if close else ""
                raise MisconfigurationError(f"LambdaCallback({name}=...): `{name}` is not a callback hook.{tip}")
            if function is not None:
                setattr(self, name, function)  # an instance attribute: the hook dispatcher calls only these
