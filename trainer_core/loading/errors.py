"""Errors raised while loading a user's script, data or config.

Both are :class:`~trainer_core.exceptions.MisconfigurationError` subclasses, so anything that already reports bad
configuration (the command line exits with status 2, the studio shows a message box) reports these too. Each message
is one paragraph that names the file (and line, where there is one) and says how to fix the problem.
"""

from __future__ import annotations

from collections.abc import Sequence

from trainer_core.exceptions import MisconfigurationError

__all__ = ["ScriptError", "DataError", "ConfigError"]


class ScriptError(MisconfigurationError):
    """A user script cannot be imported, or the class asked for is missing or ambiguous.

    Attributes:
        path: the script's path.
        line: the 1-based line the problem is on, when known.
        candidates: the class names found in the script that could have been meant (may be empty).
    """

    def __init__(self, message: str, *, path: str, line: int | None = None, candidates: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.candidates = list(candidates)


class DataError(MisconfigurationError):
    """A data file or folder is missing, unreadable, in an unknown format, empty, or holds bad labels.

    Attributes:
        path: the file or folder concerned.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class ConfigError(MisconfigurationError):
    """A ``--config`` YAML file cannot be read or has a key that is not part of the config shape."""
