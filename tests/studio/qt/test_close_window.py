"""Closing the window during a run: the user chooses Stop, Keep training in the background, or Cancel."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.qt import window_files


def _start_slow_run(window, scripts, epochs: int) -> None:
    window.open_script(str(scripts / "tiny_model.py"))
    window.model_form.rows["step_sleep"].widget.setText("0.01")
    window.trainer_form.rows["max_epochs"].widget.setText(str(epochs))
    window.trainer_form.rows["log_every_n_steps"].widget.setText("1")
    assert window.launch("fit")


def _last_event(path: Path) -> dict:
    if not path.is_file():
        return {}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    try:
        return json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:  # the child is writing that line right now
        return {}


def test_cancel_keeps_the_window_and_the_run(make_window, qtbot, scripts, monkeypatch):
    window = make_window()
    _start_slow_run(window, scripts, epochs=1000)
    asked = []
    monkeypatch.setattr(window, "_ask_close_choice", lambda: asked.append(1) or "cancel")
    assert window.close() is False
    assert asked == [1] and window.session.running
    window.stop()
    window.stop()  # kill: the test need not wait for a checkpoint
    qtbot.waitUntil(lambda: not window.session.running, timeout=15_000)


def test_no_question_without_a_run(make_window, monkeypatch):
    window = make_window()
    monkeypatch.setattr(window, "_ask_close_choice", lambda: (_ for _ in ()).throw(AssertionError("asked")))
    assert window.close() is True


def test_keep_training_detaches_a_run_that_finishes_on_its_own(make_window, qtbot, scripts, monkeypatch):
    window = make_window()
    _start_slow_run(window, scripts, epochs=12)  # 8 batches x 12 epochs x 10 ms: a few seconds of training
    session = window.session
    qtbot.waitUntil(lambda: session.model.progress.step >= 3 and bool(session.model.log_dir), timeout=60_000)
    log_dir = session.model.log_dir
    received = len(session.model.metrics.series("train_loss"))
    monkeypatch.setattr(window, "_ask_close_choice", lambda: "keep")
    assert window.close() is True
    assert not session.running
    proc = session.controller.detached[-1]
    try:
        assert proc.is_alive()
        # multiprocessing joins only the processes in active_children() at interpreter exit: the GUI won't wait.
        assert proc not in multiprocessing.active_children()
        events = Path(log_dir) / "events.jsonl"
        qtbot.waitUntil(lambda: _last_event(events).get("type") == "run_finished", timeout=120_000)
    finally:
        proc.join(30)  # the run ends by itself; join only reaps it (the leak guard ignores nothing else)
    assert proc.exitcode == 0
    on_disk = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert on_disk[-1]["status"] == "finished", on_disk[-1]
    steps = [e["step"] for e in on_disk if e["type"] == "metrics" and "train_loss" in e["metrics"]]
    assert len(steps) == 8 * 12 > received  # every step, those after the window closed too, is in the run folder
    assert list(Path(log_dir, "checkpoints").glob("*.ckpt"))
    # The run can be opened later, as `python -m studio RUN_DIR` does.
    again = make_window(log_dir)
    assert again.session.model.status == "finished"
    assert len(again.session.model.metrics.series("train_loss")) == len(steps)


def test_the_close_question_offers_the_three_choices(make_window):
    window = make_window()
    seen = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.extend(button.text() for button in box.buttons())
        next(b for b in box.buttons() if b.text() == "Keep training in the background").click()

    QTimer.singleShot(0, answer)
    assert window_files.ask_close_choice(window) == "keep"
    assert set(seen) == {"Stop the run", "Keep training in the background", "Cancel"}
