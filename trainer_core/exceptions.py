"""Exceptions raised by trainer_core."""

from __future__ import annotations

__all__ = ["MisconfigurationError", "MisconfigurationException"]


class MisconfigurationError(ValueError):
    """A Trainer flag, callback argument or user object is set up wrongly.

    The message always names the setting, the value given and what is accepted.
    """


# Lightning 1.x spelling, kept so user code catching it keeps working.
MisconfigurationException = MisconfigurationError
