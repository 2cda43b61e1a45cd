"""Rank-zero helpers under their 1.6 module path (``pytorch_lightning.utilities.rank_zero``); 1.5 scripts import
the same names from ``pytorch_lightning.utilities``.

Each helper does its work only in the process of global rank 0, so a message or warning appears once per run
instead of once per process.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from trainer_core.loggers.base import rank_zero_only

__all__ = ["rank_zero_debug", "rank_zero_deprecation", "rank_zero_info", "rank_zero_only", "rank_zero_warn"]

_log = logging.getLogger("trainer_core")


@rank_zero_only
def rank_zero_debug(*args: Any, stacklevel: int = 4, **kwargs: Any) -> None:
    """``logging.debug`` on rank 0 (through the ``trainer_core`` logger)."""
    _log.debug(*args, stacklevel=stacklevel, **kwargs)


@rank_zero_only
def rank_zero_info(*args: Any, stacklevel: int = 4, **kwargs: Any) -> None:
    """``logging.info`` on rank 0 (through the ``trainer_core`` logger, which prints when nothing else is set up)."""
    _log.info(*args, stacklevel=stacklevel, **kwargs)


@rank_zero_only
def rank_zero_warn(message: str | Warning, category: type[Warning] = UserWarning, stacklevel: int = 4,
                   **kwargs: Any) -> None:
    """``warnings.warn`` on rank 0."""
    warnings.warn(message, category, stacklevel=stacklevel, **kwargs)


def rank_zero_deprecation(message: str | Warning, stacklevel: int = 5, **kwargs: Any) -> None:
    """A ``DeprecationWarning`` on rank 0."""
    rank_zero_warn(message, DeprecationWarning, stacklevel=stacklevel, **kwargs)
