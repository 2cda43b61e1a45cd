"""ModelCheckpoint's argument checks and file-name templates, kept apart from its saving logic."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError

__all__ = ["validate_arguments", "fill_template"]

# "{name}" or "{name:format_spec}"; a name may hold "/" (sub-folders) or "." but no braces or colon.
_PLACEHOLDER = re.compile(r"\{([^{}:]+)(?::([^{}]*))?\}")


def validate_arguments(
    mode: str,
    save_top_k: int,
    monitor: str | None,
    every_n_train_steps: int | None,
    every_n_epochs: int | None,
    train_time_interval: timedelta | None,
) -> None:
    """Raise ``MisconfigurationError`` for arguments ModelCheckpoint cannot honour."""
    if mode not in ("min", "max"):
        raise MisconfigurationError(f"ModelCheckpoint(mode={mode!r}) is not supported: use mode='min' or mode='max'.")
    if isinstance(save_top_k, bool) or not isinstance(save_top_k, int) or save_top_k < -1:
        raise MisconfigurationError(
            f"ModelCheckpoint(save_top_k={save_top_k!r}) is invalid: use -1 (keep all), 0 (none) or an integer >= 1."
        )
    if monitor is None and save_top_k not in (-1, 0, 1):
        raise MisconfigurationError(
            f"ModelCheckpoint(save_top_k={save_top_k}, monitor=None) cannot rank checkpoints: set "
            "monitor='<metric you log>' to keep the best k, or use save_top_k=-1 (all), 0 or 1 (most recent)."
        )
    for name, value in (("every_n_train_steps", every_n_train_steps), ("every_n_epochs", every_n_epochs)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise MisconfigurationError(f"ModelCheckpoint({name}={value!r}) is invalid: use an integer >= 0.")
    if train_time_interval is not None and not isinstance(train_time_interval, timedelta):
        raise MisconfigurationError(
            f"ModelCheckpoint(train_time_interval={train_time_interval!r}) is invalid: pass a datetime.timedelta."
        )
    given = [
        name
        for name, value in (
            ("every_n_train_steps", every_n_train_steps),
            ("every_n_epochs", every_n_epochs),
            ("train_time_interval", train_time_interval),
        )
        if value
    ]
    if len(given) > 1:
        raise MisconfigurationError(
            f"ModelCheckpoint got several save triggers ({', '.join(given)}); they are mutually exclusive: keep "
            "only one of them."
        )


def fill_template(template: str, metrics: dict[str, Any], auto_insert_metric_name: bool = True) -> str:
    """Replace each ``{name}``/``{name:spec}`` with ``name=value`` (or ``value``); unknown names count as 0.

    Examples:
        >>> fill_template("{epoch:03d}-{acc}", {"epoch": 3, "acc": 0.03})
        'epoch=003-acc=0.03'
    """

    def fill(match: re.Match[str]) -> str:
        name, spec = match.group(1), match.group(2) or ""
        value = metrics.get(name, 0)
        if isinstance(value, torch.Tensor):
            value = value.item()  # one host read per saved file, never per step
        text = format(value, spec)
        return f"{name}={text}" if auto_insert_metric_name else text

    return _PLACEHOLDER.sub(fill, template)
