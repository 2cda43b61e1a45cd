"""The main window's run toolbar: Fit, Validate, Test, Predict, Tune (split button), Debug (split button), Stop.

The toolbar only asks: ``launch_requested(mode, overrides)`` and ``stop_requested()``; the window decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar, QToolButton, QWidget

__all__ = ["RunToolbar", "MODES"]

MODES = (("fit", "Fit", "Train the model (Ctrl+R)"), ("validate", "Validate", "Run the validation loop once"),
         ("test", "Test", "Run the test loop"), ("predict", "Predict", "Run predict_step over the predict data"))

_TUNE_CHOICES = (("LR finder", {"lr_find": True, "scale_batch_size": False}),
                 ("Batch-size finder", {"lr_find": False, "scale_batch_size": True}),
                 ("Both (batch size, then LR)", {"lr_find": True, "scale_batch_size": True}))
_DEBUG_CHOICES = (("fast_dev_run (one batch of each loop)", "fast_dev_run"),
                  ("overfit_batches (train and validate on the same few batches)", "overfit_batches"),
                  ("Check batch independence (does the model mix samples across the batch?)", "batch_independence"))


class RunToolbar(QToolBar):
    """The run modes and Stop.

    Args:
        parent: the window.
        before_stop: adds more actions before the separator and Stop (the window's Sweep… action).

    Attributes:
        mode_actions: mode -> its action (``tune`` and ``debug`` are split buttons: click for the common variant).
        stop_action: Stop (reads Kill once a stop was asked for).
    """

    launch_requested = Signal(str, dict)
    stop_requested = Signal()

    def __init__(self, parent: QWidget, *, before_stop: Callable[[QToolBar], Any] | None = None) -> None:
        super().__init__("Run", parent)
        self.setObjectName("runToolbar")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.mode_actions: dict[str, QAction] = {}
        for mode, text, tip in MODES:
            action = QAction(text, self)
            action.setToolTip(tip)
            action.triggered.connect(lambda _=False, m=mode: self.launch_requested.emit(m, {}))
            self.addAction(action)
            self.mode_actions[mode] = action
        self.mode_actions["fit"].setShortcut(QKeySequence("Ctrl+R"))
        tune_menu = QMenu(self)
        for text, tune in _TUNE_CHOICES:
            tune_menu.addAction(text, lambda t=tune: self.launch_requested.emit("tune", {"tune": dict(t)}))
        self.mode_actions["tune"] = self._menu_button(
            "Tune", tune_menu, "Click: learning-rate finder. Arrow: batch-size finder, or both",
            lambda: self.launch_requested.emit("tune", {"tune": dict(_TUNE_CHOICES[0][1])}))
        debug_menu = QMenu(self)
        for text, debug in _DEBUG_CHOICES:
            debug_menu.addAction(text, lambda d=debug: self.launch_requested.emit("debug", {"debug": d}))
        self.mode_actions["debug"] = self._menu_button(
            "Debug", debug_menu, "Click: fast_dev_run (one batch of each loop). Arrow: overfit_batches",
            lambda: self.launch_requested.emit("debug", {"debug": "fast_dev_run"}))
        if before_stop is not None:
            before_stop(self)
        self.addSeparator()
        self.stop_action = QAction("Stop", self)
        self.stop_action.setToolTip("Stop after the current batch, saving a checkpoint; click again to kill")
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))
        self.stop_action.triggered.connect(self.stop_requested.emit)
        self.addAction(self.stop_action)

    def _menu_button(self, text: str, menu: QMenu, tip: str, default: Callable[[], Any]) -> QAction:
        # One click runs the common variant; the arrow opens the others.
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setMenu(menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        button.setStyleSheet(_menu_button_style())
        button.clicked.connect(default)
        return self.addWidget(button)


def _menu_button_style() -> str:
    """The split button's arrow (the bundled themes style plain tool buttons only)."""
    arrow = ""
    try:
        from resources import resource_path
        from studio.qt.theme import is_dark

        path = resource_path("themes", f"chevron-down-{'dark' if is_dark() else 'light'}.svg")
        if path.is_file():
            arrow = f"QToolButton::menu-arrow {{ image: url({path.as_posix()}); width: 9px; height: 9px; }}"
    except ImportError:
        pass
    return ("QToolButton::menu-button { border: none; background: transparent; width: 14px; } " + arrow)
