"""The console pane: the child's prints, warnings, log records and errors, plus the studio's own notes."""

from __future__ import annotations

import html

from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from studio.services.session import RunSession

__all__ = ["ConsoleView"]

_COLOURS = {
    "error": "#d64545",
    "critical": "#d64545",
    "warning": "#c7870a",
    "stderr": "#a0522d",
    "studio": "#3a7bd5",
    "debug": "#888888",
}


class ConsoleView(QWidget):
    """Appends the model's new console lines on the session clock (bounded to ``max_lines``)."""

    def __init__(self, session: RunSession, parent: QWidget | None = None, *, max_lines: int = 20_000) -> None:
        super().__init__(parent)
        self.session = session
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(max_lines)
        self.text.setObjectName("console")
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(font)
        clear = QPushButton("Clear")
        clear.clicked.connect(self.text.clear)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self._shown = 0
        session.tick.connect(self.refresh)
        session.cleared.connect(self.refresh)

    def plain_text(self) -> str:
        """Everything shown (tests)."""
        return self.text.toPlainText()

    def refresh(self) -> None:
        """Append lines logged since the last call."""
        model = self.session.model
        total = model.console_total
        if total < self._shown:  # model reset for a new run: keep the old text, continue from the start
            self._shown = 0
        new = total - self._shown
        if new <= 0:
            return
        lines = list(model.console)[-min(new, len(model.console)) :]
        self._shown = total
        at_end = self.text.verticalScrollBar().value() >= self.text.verticalScrollBar().maximum() - 4
        chunks = []
        for level, line in lines:
            colour = _COLOURS.get(level)
            escaped = html.escape(line).replace(" ", "&nbsp;") or "&nbsp;"
            chunks.append(f'<span style="color:{colour}">{escaped}</span>' if colour else escaped)
        self.text.appendHtml("<br>".join(chunks))
        if at_end:
            self.text.moveCursor(QTextCursor.MoveOperation.End)
            self.text.ensureCursorVisible()
