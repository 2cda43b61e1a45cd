"""Studio fault rows with real training children (matrix rows 8, 9, 14, 15): kills, stops, floods, many runs.

Every test runs with the autouse ``no_orphans`` guard of this folder's conftest: no child process may survive it.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from studio.models.config import RunConfig
from studio.services.session import RunSession

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "log_every_n_steps": 1}


@pytest.fixture
def session(qtbot):
    session = RunSession()
    yield session
    session.shutdown()


def fit_config(faulty: str, epochs: int = 1000, **init_args: Any) -> RunConfig:
    return RunConfig(model_script=faulty, model_init_args=init_args,
                     trainer_flags={**QUIET, "max_epochs": epochs})


def _events(log_dir: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(log_dir, "events.jsonl").read_text().splitlines() if line.strip()]


def test_sigkill_of_a_real_run_is_noticed_and_every_received_metric_is_on_disk(session, qtbot, faulty, tmp_path):
    session.launch(fit_config(faulty, step_sleep=0.01), "fit", tmp_path / "runs")
    qtbot.waitUntil(lambda: "train_loss" in session.model.metrics
                    and len(session.model.metrics.series("train_loss")) >= 10, timeout=60_000)
    with qtbot.waitSignal(session.run_ended, timeout=5_000) as ended:
        os.kill(session.controller.pid, signal.SIGKILL)  # what the kernel's OOM killer does, too
        killed_at = time.monotonic()
    assert time.monotonic() - killed_at < 1.0
    status, reason = ended.args
    assert status == "failed" and "SIGKILL" in reason
    received = {int(x) for x in session.model.metrics.series("train_loss").view()[0]}
    on_disk = {e["step"] for e in _events(session.model.log_dir)
               if e["type"] == "metrics" and "train_loss" in e["metrics"]}
    assert received <= on_disk, sorted(received - on_disk)
    # The app is still usable: the next run starts and finishes.
    session.launch(fit_config(faulty, epochs=1), "fit", tmp_path / "runs")
    with qtbot.waitSignal(session.run_ended, timeout=60_000) as ended:
        pass
    assert ended.args[0] == "finished", ended.args[1]


def test_stop_during_validation_is_graceful_and_saves_a_checkpoint(session, qtbot, faulty, tmp_path):
    config = fit_config(faulty, val_sleep=0.3, batches=2)
    config.trainer_flags["num_sanity_val_steps"] = 0
    session.launch(config, "fit", tmp_path / "runs")
    qtbot.waitUntil(lambda: session.model.progress.stage == "validate", timeout=60_000)
    with qtbot.waitSignal(session.run_ended, timeout=10_000) as ended:
        session.stop()
        asked = time.monotonic()
    assert time.monotonic() - asked < 5.0
    assert ended.args[0] == "interrupted" and "checkpoint saved" in ended.args[1], ended.args
    stopped = glob.glob(os.path.join(session.model.log_dir, "checkpoints", "stopped-*.ckpt"))
    assert len(stopped) == 1 and stopped[0] in session.model.checkpoints


def test_stop_during_the_lr_finder_ends_tuning_without_a_checkpoint(session, qtbot, faulty, tmp_path):
    runs = tmp_path / "runs"
    session.launch(fit_config(faulty, step_sleep=0.02), "tune", runs,
                   overrides={"tune": {"lr_find": True, "lr_find_kwargs": {"num_training": 5000}}})
    qtbot.waitUntil(lambda: len(session.model.extras.get("lr_find_point", [])) >= 3, timeout=60_000)
    with qtbot.waitSignal(session.run_ended, timeout=10_000) as ended:
        session.stop()
        asked = time.monotonic()
    assert time.monotonic() - asked < 5.0
    assert ended.args[0] == "interrupted" and "stopped by the user" in ended.args[1], ended.args
    assert not glob.glob(str(runs / "**" / "*.ckpt"), recursive=True)  # a half-tuned model is never saved


def test_stop_request_inside_the_tuners_restores_the_model(faulty) -> None:
    """The worker's StopOnRequest in the LR finder and the batch-size finder: interrupt, weights restored."""
    import threading

    import torch

    import trainer_core as pl
    from studio.worker.stop import StopOnRequest
    from trainer_core.loading import load_model_class

    for finder in ("lr_find", "scale_batch_size"):
        stop = threading.Event()
        stop.set()
        model = load_model_class(faulty)()
        model.batch_size = 8
        before = {k: v.clone() for k, v in model.state_dict().items()}
        stopper = StopOnRequest(stop)
        trainer = pl.Trainer(callbacks=[stopper], logger=False, enable_progress_bar=False,
                             enable_model_summary=False, enable_checkpointing=False, max_epochs=1)
        try:
            getattr(trainer.tuner, finder)(model)
        except KeyboardInterrupt:
            pass  # the batch-size finder may hand the interrupt on; either way the model must be restored
        assert stopper.fired and stopper.checkpoint_path is None, finder
        assert trainer.state.status == "interrupted", finder
        after = model.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before), finder


def test_gui_flood_keeps_every_series_and_epoch_metric(session, qtbot, faulty, tmp_path):
    """A real model logging 100 metrics every step: all points and every epoch metric arrive."""
    session.launch(fit_config(faulty, epochs=2, metrics_per_step=100, batches=40), "fit", tmp_path / "runs")
    with qtbot.waitSignal(session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", ended.args[1]
    store = session.model.metrics
    for i in range(100):
        assert len(store.series(f"m{i:03d}")) == 80, i
    assert len(store.series("val_loss")) == 2
    on_disk = _events(session.model.log_dir)
    assert sum(1 for e in on_disk if e["type"] == "epoch_finished" and e["stage"] == "train") == 2


def test_gui_flood_never_makes_the_producer_wait_and_memory_stays_bounded(session, qtbot, tmp_path):
    """100 metrics x 20,000 steps from the torch-free producer: puts stay instant, GUI memory bounded."""
    rss_before = psutil.Process().memory_info().rss
    session.launch(RunConfig(model_script="synthetic.py"), "fit", tmp_path / "runs",
                   synthetic={"epochs": 4, "steps_per_epoch": 5_000, "metrics_per_step": 100})
    with qtbot.waitSignal(session.run_ended, timeout=180_000) as ended:
        pass
    assert ended.args[0] == "finished"
    final = session.model.extras["run_finished"][-1]
    assert final["worst_put_s"] < 0.25 and final["slow_puts"] < 50, final  # the producer never blocked on the GUI
    store = session.model.metrics
    assert len(store.names()) >= 101 and len(store.series("metric_99")) == 20_000
    assert len(store.series("val_loss")) == 4  # every epoch metric is present
    growth_mb = (psutil.Process().memory_info().rss - rss_before) / 2**20
    assert growth_mb < 400, growth_mb  # 2M points are ~32 MB as float64 pairs; the rest is bounded buffers


def test_two_runs_at_once_both_finish(qtbot, faulty, tmp_path):
    first, second = RunSession(), RunSession()
    try:
        first.launch(fit_config(faulty, epochs=1), "fit", tmp_path / "runs")
        second.launch(fit_config(faulty, epochs=1, lr=0.01), "fit", tmp_path / "runs")
        assert first.controller.pid != second.controller.pid
        qtbot.waitUntil(lambda: not first.running and not second.running, timeout=120_000)
        assert first.model.status == second.model.status == "finished"
        assert first.model.log_dir != second.model.log_dir
    finally:
        first.shutdown()
        second.shutdown()


def test_rapid_start_stop_clicking_leaves_nothing_behind(session, qtbot, faulty, tmp_path):
    pids = []
    for _ in range(4):
        session.launch(fit_config(faulty, step_sleep=0.01), "fit", tmp_path / "runs")
        pids.append(session.controller.pid)
        with qtbot.waitSignal(session.run_ended, timeout=15_000) as ended:
            session.stop()
            session.stop()  # the second click kills
        assert ended.args[0] == "interrupted"
        assert not session.running
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)
    session.launch(fit_config(faulty, epochs=1), "fit", tmp_path / "runs")
    with qtbot.waitSignal(session.run_ended, timeout=60_000) as ended:
        pass
    assert ended.args[0] == "finished"


def test_closing_the_window_during_a_run_stops_it_cleanly(qtbot, faulty, monkeypatch):
    from studio.app import create_window

    window = create_window(faulty)
    qtbot.addWidget(window)
    window.model_form.rows["step_sleep"].widget.setText("0.02")
    window.trainer_form.rows["max_epochs"].widget.setText("1000")
    assert window.launch("fit")
    qtbot.waitUntil(lambda: window.session.model.progress.step >= 3, timeout=60_000)
    pid = window.session.controller.pid
    monkeypatch.setattr(window, "_ask_close_choice", lambda: "stop")
    assert window.close()
    assert not window.session.running
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert window.session.model.status == "interrupted"
    assert glob.glob(os.path.join(window.session.model.log_dir, "checkpoints", "stopped-*.ckpt"))


# A GUI process that closes its window with "Keep training in the background" and exits; it prints the child's pid
# and run folder. It waits on the run's progress with a timer (no sleeps).
_KEEP_TRAINING_GUI = """
import json, os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from studio.app import create_window

app = QApplication([])
window = create_window(sys.argv[1])
window.model_form.rows["step_sleep"].widget.setText("0.1")
window.trainer_form.rows["max_epochs"].widget.setText("4")
window.trainer_form.rows["log_every_n_steps"].widget.setText("1")
window._ask_close_choice = lambda: "keep"
assert window.launch("fit")

def check():
    model = window.session.model
    if model.progress.step >= 2 and model.log_dir:
        pid = window.session.controller.pid
        window.close()
        print(json.dumps({"pid": pid, "log_dir": model.log_dir}), flush=True)
        app.quit()

timer = QTimer()
timer.timeout.connect(check)
timer.start(20)
app.exec()
"""


def test_a_run_kept_training_outlives_the_gui_process_and_finishes(qtbot, faulty, tmp_path):
    """Closing with "Keep training": the GUI process exits at once; the run finishes and its folder is complete."""
    import subprocess
    import sys

    # Output to files, not pipes: the run inherits them, so reading a pipe to EOF would wait for the run too.
    out, err = tmp_path / "gui.out", tmp_path / "gui.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        gui = subprocess.Popen([sys.executable, "-c", _KEEP_TRAINING_GUI, faulty], stdout=stdout, stderr=stderr,
                               cwd=str(Path(__file__).resolve().parents[2]))
        try:
            assert gui.wait(timeout=120) == 0, err.read_text()
        finally:
            if gui.poll() is None:
                gui.kill()
                gui.wait()
    info = json.loads(out.read_text().strip().splitlines()[-1])
    pid, events = info["pid"], Path(info["log_dir"]) / "events.jsonl"
    assert "keeps training in the background" in err.read_text()
    # 8 batches x 4 epochs x 100 ms is still running: the GUI's exit did not wait for it (nor kill it).
    child = psutil.Process(pid)
    assert child.is_running() and child.status() != psutil.STATUS_ZOMBIE
    assert not events.is_file() or '"run_finished"' not in events.read_text()

    def last_type() -> str:
        lines = [line for line in events.read_text().splitlines() if line.strip()] if events.is_file() else []
        try:
            return json.loads(lines[-1])["type"] if lines else ""
        except json.JSONDecodeError:
            return ""

    try:
        qtbot.waitUntil(lambda: last_type() == "run_finished", timeout=120_000)
        qtbot.waitUntil(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, timeout=30_000)
    finally:
        if child.is_running() and child.status() != psutil.STATUS_ZOMBIE:
            child.kill()
    final = json.loads(events.read_text().splitlines()[-1])
    assert final["status"] == "finished", final
    steps = [e["step"] for e in _events(info["log_dir"]) if e["type"] == "metrics" and "train_loss" in e["metrics"]]
    assert len(steps) == 8 * 4
