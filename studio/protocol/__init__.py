"""Messages between the training child process and the GUI: plain dicts, no Qt, no torch."""

from studio.protocol.events import EVENT_TYPES, NEVER_DROPPED, exit_code_meaning

__all__ = ["EVENT_TYPES", "NEVER_DROPPED", "exit_code_meaning"]
