"""Runs tab, Move to Trash: the selected run folders go to the desktop's trash after a confirmation naming them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


@pytest.fixture
def trash(tmp_path, monkeypatch):
    """A home of its own (on the runs' drive) whose freedesktop trash the test can look into."""
    home = tmp_path / "home"
    (home / ".local" / "share").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    return home / ".local" / "share" / "Trash" / "files"


@pytest.fixture
def boxes(monkeypatch):
    """Every message box the view opens, answered with ``boxes.answer`` instead of a real modal."""
    class Boxes(list):
        answer = QMessageBox.StandardButton.Yes

    shown = Boxes()

    def fake_exec(box):
        shown.append((box.icon(), box.text(), box.informativeText()))
        return shown.answer if box.icon() == QMessageBox.Icon.Question else QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    return shown


def _runs_view(qtbot, session, root):
    from studio.qt.dashboards.history_view import HistoryView

    view = HistoryView(session, root=str(root))
    qtbot.addWidget(view)
    view.resize(1280, 700)
    view.show()
    qtbot.waitExposed(view)
    assert len(view.runs) == 2
    return view


def _folders(root):
    return sorted(p.name for p in (root / "lightning_logs").iterdir())


def test_delete_key_moves_the_selected_run_to_the_trash_after_a_confirmation(qtbot, session, runs_root, trash, boxes):
    view = _runs_view(qtbot, session, runs_root)
    first = runs_root / "lightning_logs" / "version_0"
    view.select_run(str(first))
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    assert len(boxes) == 1 and boxes[0][0] == QMessageBox.Icon.Question
    assert "Move 1 run folder(s) to the Trash?" in boxes[0][1] and str(first) in boxes[0][2]
    assert _folders(runs_root) == ["version_1"]  # gone from the runs root, nothing else moved
    assert (trash / "version_0" / "events.jsonl").is_file()  # recoverable from the trash
    assert [run.path for run in view.runs] == [str(runs_root / "lightning_logs" / "version_1")]
    assert view.table_model.rowCount() == 1 and "Moved 1 run(s) to the Trash" in view.info.text()


def test_several_selected_runs_go_together_and_cancel_moves_nothing(qtbot, session, runs_root, trash, boxes):
    view = _runs_view(qtbot, session, runs_root)
    boxes.answer = QMessageBox.StandardButton.Cancel
    view.table.selectAll()
    view.trash_button.click()
    assert _folders(runs_root) == ["version_0", "version_1"] and len(view.runs) == 2
    boxes.answer = QMessageBox.StandardButton.Yes
    view.trash_button.click()
    assert "Move 2 run folder(s)" in boxes[-1][1]
    assert _folders(runs_root) == [] and sorted(p.name for p in trash.iterdir()) == ["version_0", "version_1"]
    assert view.table_model.rowCount() == 0


def test_a_run_this_window_trains_is_refused(qtbot, session, runs_root, trash, boxes, monkeypatch):
    view = _runs_view(qtbot, session, runs_root)
    live = runs_root / "lightning_logs" / "version_1"
    monkeypatch.setattr(type(session.controller), "running", property(lambda self: True))
    session.model.log_dir = str(live)
    view.table.selectAll()
    view.trash_selected()
    assert [icon for icon, *_ in boxes] == [QMessageBox.Icon.Warning]  # refused before any confirmation
    assert str(live) in boxes[0][2] and "Stop it" in boxes[0][2]
    assert _folders(runs_root) == ["version_0", "version_1"] and not trash.exists()
    assert "Nothing was moved" in view.info.text()


def test_without_a_trash_nothing_is_deleted(qtbot, session, runs_root, trash, boxes, monkeypatch):
    from PySide6.QtCore import QFile

    view = _runs_view(qtbot, session, runs_root)
    monkeypatch.setattr(QFile, "moveToTrash", staticmethod(lambda path: False))
    view.select_run(str(runs_root / "lightning_logs" / "version_0"))
    view.trash_selected()
    assert _folders(runs_root) == ["version_0", "version_1"]
    assert "Could not move" in view.info.text() and "Nothing was deleted" in view.info.text()


def test_a_trial_of_the_sweep_this_window_runs_is_refused(qtbot, session, runs_root, trash, boxes):
    from types import SimpleNamespace

    view = _runs_view(qtbot, session, runs_root)
    view.sweep_controller = SimpleNamespace(running=True, sweep_dir=str(runs_root / "lightning_logs"))
    view.select_run(str(runs_root / "lightning_logs" / "version_0"))
    view.trash_selected()
    assert [icon for icon, *_ in boxes] == [QMessageBox.Icon.Warning] and "sweep" in boxes[0][2]
    assert _folders(runs_root) == ["version_0", "version_1"]
