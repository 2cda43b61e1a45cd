"""The child-process supervisor with the torch-free synthetic run: stream, stop, kill, crashes."""

from __future__ import annotations

import os
import signal
import time

import pytest

from studio.models.config import RunConfig
from studio.services.session import RunSession


@pytest.fixture
def session(qtbot, tmp_path):
    session = RunSession()
    yield session
    session.shutdown()


def launch(session, tmp_path, **synthetic):
    options = {"epochs": 1, "steps_per_epoch": 200, **synthetic}
    return session.launch(RunConfig(model_script="synthetic.py"), "fit", tmp_path / "runs", synthetic=options)


def test_stream_reaches_the_model_and_prints_go_to_the_console(session, qtbot, tmp_path):
    launch(session, tmp_path, epochs=2, steps_per_epoch=500, metrics_per_step=3, print_every=100)
    with qtbot.waitSignal(session.run_ended, timeout=30_000) as ended:
        pass
    assert ended.args[0] == "finished"
    store = session.model.metrics
    assert len(store.series("train_loss")) == 1000 and len(store.series("metric_2")) == 1000
    assert len(store.series("val_loss")) == 2
    lines = [text for _, text in session.model.console]
    assert "user print at step 900" in lines
    assert session.controller.received >= 1000


def test_stop_is_graceful(session, qtbot, tmp_path):
    launch(session, tmp_path, steps_per_epoch=100_000, step_delay_s=0.002)
    qtbot.waitUntil(lambda: session.model.progress.step > 5, timeout=20_000)
    with qtbot.waitSignal(session.run_ended, timeout=20_000) as ended:
        session.stop()
    assert ended.args[0] == "interrupted"
    assert session.model.status == "interrupted"


def test_stop_escalates_to_kill_when_the_child_ignores_it(session, qtbot, tmp_path):
    session.controller.stop_timeout_s = 0.5
    launch(session, tmp_path, steps_per_epoch=100_000, step_delay_s=0.002, hang=True)
    qtbot.waitUntil(lambda: session.model.progress.step > 5, timeout=20_000)
    with qtbot.waitSignal(session.run_ended, timeout=10_000) as ended:
        session.stop()
    assert ended.args[0] == "interrupted" and "killed" in ended.args[1]


def test_second_stop_kills_at_once(session, qtbot, tmp_path):
    launch(session, tmp_path, steps_per_epoch=100_000, step_delay_s=0.002, hang=True)
    qtbot.waitUntil(lambda: session.model.progress.step > 5, timeout=20_000)
    session.stop()
    with qtbot.waitSignal(session.run_ended, timeout=5_000) as ended:
        session.stop()
    assert ended.args[0] == "interrupted"


def test_sigkill_from_outside_is_noticed_within_a_second(session, qtbot, tmp_path):
    launch(session, tmp_path, steps_per_epoch=100_000, step_delay_s=0.002)
    qtbot.waitUntil(lambda: session.model.progress.step > 5, timeout=20_000)
    received = len(session.model.metrics.series("train_loss"))
    with qtbot.waitSignal(session.run_ended, timeout=5_000) as ended:
        os.kill(session.controller.pid, signal.SIGKILL)
        killed_at = time.monotonic()
    assert time.monotonic() - killed_at < 1.0
    status, reason = ended.args
    assert status == "failed" and "SIGKILL" in reason and "exit code -9" in reason
    assert len(session.model.metrics.series("train_loss")) >= received  # what arrived stays


def test_segfault_is_reported_with_its_meaning(session, qtbot, tmp_path):
    launch(session, tmp_path, segfault_at_step=3)
    with qtbot.waitSignal(session.run_ended, timeout=20_000) as ended:
        pass
    status, reason = ended.args
    assert status == "failed" and "segmentation fault" in reason and "SIGSEGV" in reason
    assert "Fatal Python error" in reason  # faulthandler's native trace


def test_exit_code_of_os_exit_is_reported(session, qtbot, tmp_path):
    launch(session, tmp_path, crash_at_step=3)
    with qtbot.waitSignal(session.run_ended, timeout=20_000) as ended:
        pass
    assert ended.args[0] == "failed" and "exit code 3" in ended.args[1]


def test_exception_in_the_child_shows_the_traceback(session, qtbot, tmp_path):
    launch(session, tmp_path, fail_at_step=4)
    with qtbot.waitSignal(session.run_ended, timeout=20_000) as ended:
        pass
    assert ended.args[0] == "failed"
    text = "\n".join(line for _, line in session.model.console)
    assert "synthetic failure at step 4" in text and "Traceback" in text


def test_next_run_after_a_failure_works(session, qtbot, tmp_path):
    launch(session, tmp_path, crash_at_step=1)
    qtbot.waitSignal(session.run_ended, timeout=20_000).wait()
    launch(session, tmp_path, steps_per_epoch=10)
    with qtbot.waitSignal(session.run_ended, timeout=20_000) as ended:
        pass
    assert ended.args[0] == "finished" and len(session.model.metrics.series("train_loss")) == 10


def test_open_a_command_line_run_folder(session, tmp_path):
    import json

    folder = tmp_path / "version_0"
    folder.mkdir()
    events = [
        {"type": "run_started", "run_id": "c", "seq": 0, "time": 1.0, "mode": "fit", "log_dir": str(folder),
         "pid": 1, "config": {}},
        {"type": "metrics", "run_id": "c", "seq": 1, "time": 2.0, "step": 0, "epoch": 0, "metrics": {"a": 1.0}},
        {"type": "stage_finished", "run_id": "c", "seq": 2, "time": 3.0, "stage": "fit", "status": "finished",
         "metrics": {}},
    ]
    (folder / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    session.open_run(folder)
    assert session.model.status == "finished" and len(session.model.metrics.series("a")) == 1
    assert session.model.elapsed_s() == 2.0  # first to last event, not until it was reopened
    (folder / "events.jsonl").write_text(json.dumps(events[1]) + "\n")
    session.open_run(folder / "events.jsonl")
    assert session.model.status == "failed" and "without a final event" in session.model.reason
