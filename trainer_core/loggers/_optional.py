"""What the loggers for hosted services share: importing their optional package, and flat hyper-parameters.

Examples:
    >>> flat_params({"model": {"lr": 0.1, "layers": [2, 3]}, "seed": 7})
    {'model/lr': 0.1, 'model/layers': [2, 3], 'seed': 7}
"""

from __future__ import annotations

import importlib
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from trainer_core.loggers.base import params_to_dict
from trainer_core.loggers.hparams_io import to_plain

__all__ = ["import_optional", "flat_params"]


def import_optional(module: str, logger: str, install: str) -> Any:
    """Import ``module`` for ``logger``, or raise a one-line ``ModuleNotFoundError`` saying what to install.

    Args:
        module: The import name (``"wandb"``, ``"mlflow.tracking"``).
        logger: The logger class asking (named in the message).
        install: The pip requirement that provides ``module``.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        top = module.split(".")[0]
        if err.name is not None and not (module == err.name or module.startswith(f"{err.name}.")):
            raise  # the package is there but one of its own dependencies is missing: show the real error
        raise ModuleNotFoundError(
            f"{logger} needs the optional `{top}` package, which is not installed: pip install {install}",
            name=top) from None


def flat_params(params: Mapping[str, Any] | Namespace | None, separator: str = "/") -> dict[str, Any]:
    """Hyper-parameters as one level of keys (``{"a": {"b": 1}}`` -> ``{"a/b": 1}``), values made plain.

    Services that store parameters as key/value pairs (MLflow, Comet, W&B's config) show nested dicts badly;
    tensors, paths and classes become numbers and strings as in ``hparams.yaml``.
    """
    out: dict[str, Any] = {}

    def visit(prefix: str, value: Any) -> None:
        if isinstance(value, Namespace):
            value = vars(value)
        if isinstance(value, Mapping) and value:
            for key, item in value.items():
                visit(f"{prefix}{separator}{key}" if prefix else str(key), item)
        else:
            out[prefix] = to_plain(value)

    for key, value in params_to_dict(params).items():
        visit(str(key), value)
    return out
