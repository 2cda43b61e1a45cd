"""Debug > Check batch independence runs BatchGradientVerification on the model in the forms and says the answer in
the console (one real child process on the bundled example)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QToolBar

pytestmark = pytest.mark.timeout(180)


def test_check_batch_independence_from_the_debug_menu(make_window, qtbot):
    window = make_window()
    button = window.findChild(QToolBar, "runToolbar").widgetForAction(window.mode_actions["debug"])
    action = next(a for a in button.menu().actions() if a.text().startswith("Check batch independence"))
    action.trigger()
    assert window.session.running
    with qtbot.waitSignal(window.session.run_ended, timeout=150_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    text = window.console_view.plain_text()
    assert "keeps the samples of a batch apart" in text or "mixes samples only in training mode" in text, text[-2000:]
