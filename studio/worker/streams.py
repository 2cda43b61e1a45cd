"""Route the child's print output, warnings and logging records into ``log`` events.

The user's script prints and warns; those lines belong in the studio's console pane, and must never be mixed into
the message stream's bytes. ``sys.stdout``/``sys.stderr`` are replaced by line-splitting writers, ``warnings`` are
formatted into one event each, and the root logger gets a handler. Output written straight to the file descriptors
by native code still goes to the real terminal.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["LineWriter", "capture_output"]

Emit = Callable[[str, str, str], None]  # (level, stream, text)


class LineWriter(io.TextIOBase):
    """A text stream that emits one event per complete line (partial lines wait for their newline or flush)."""

    def __init__(self, emit: Emit, stream: str, level: str) -> None:
        super().__init__()
        self._emit = emit
        self._stream = stream
        self._level = level
        self._buffer = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # some libraries read it
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text.replace("\r\n", "\n").replace("\r", "\n")
            if "\n" in self._buffer:
                *lines, self._buffer = self._buffer.split("\n")
                for line in lines:
                    if line.strip():
                        self._emit(self._level, self._stream, line)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._buffer.strip():
                self._emit(self._level, self._stream, self._buffer)
            self._buffer = ""


class _Handler(logging.Handler):
    def __init__(self, emit: Emit) -> None:
        super().__init__()
        self._emit = emit
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._emit(record.levelname.lower(), "logging", self.format(record))
        except Exception:  # logging must never break the run
            self.handleError(record)


class capture_output:  # noqa: N801 - used as a context manager, reads like a function
    """Context manager: while active, stdout/stderr/warnings/logging become ``emit(level, stream, text)`` calls."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> capture_output:
        self._saved = {
            "stdout": sys.stdout,
            "stderr": sys.stderr,
            "showwarning": warnings.showwarning,
        }
        sys.stdout = LineWriter(self._emit, "stdout", "info")
        sys.stderr = LineWriter(self._emit, "stderr", "stderr")
        warnings.showwarning = self._show_warning
        self._handler = _Handler(self._emit)
        root = logging.getLogger()
        root.addHandler(self._handler)
        self._saved["level"] = root.level
        if root.level > logging.INFO or root.level == logging.NOTSET:
            root.setLevel(logging.INFO)
        return self

    def _show_warning(self, message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: Any = None, line: str | None = None) -> None:
        self._emit("warning", "warnings", f"{filename}:{lineno}: {category.__name__}: {message}")

    def __exit__(self, *exc: object) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: S110 - best effort at shutdown
                pass
        sys.stdout = self._saved["stdout"]
        sys.stderr = self._saved["stderr"]
        warnings.showwarning = self._saved["showwarning"]
        root = logging.getLogger()
        root.removeHandler(self._handler)
        root.setLevel(self._saved["level"])
