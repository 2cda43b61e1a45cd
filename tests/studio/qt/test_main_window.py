"""The main window end to end: forms from the example, validation, real runs in a child process."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from PySide6.QtWidgets import QComboBox, QLineEdit, QToolBar


def set_flag(window, name, text):
    row = window.trainer_form.rows[name]
    if isinstance(row.widget, QLineEdit):
        row.widget.setText(text)
    elif isinstance(row.widget, QComboBox):
        row.widget.setCurrentIndex(row.widget.findText(text))
    else:
        row.widget.setChecked(text == "True")


def set_arg(window, name, text):
    window.model_form.rows[name].widget.setText(text)


def test_bundled_example_fills_the_forms(make_window):
    window = make_window()
    assert window.project.script_info.path.endswith("mlp_classifier.py")
    assert window.project.class_combo.currentText() == "MachineHealthClassifier"
    assert {"hidden_size", "dropout", "lr", "batch_size", "val_fraction"} <= set(window.model_form.rows)
    flags, problems = window.trainer_form.values()
    assert problems == [] and flags["max_epochs"] == 40  # from the example's recommended YAML
    assert "mlp_classifier.py" in window.windowTitle()
    assert window.trainer_form.rows["max_epochs"].widget.toolTip().startswith("max_epochs:")


def test_invalid_flag_blocks_launch_with_the_message(make_window):
    window = make_window()
    set_flag(window, "max_epochs", "ten")
    assert window.launch("fit") is False
    assert not window.session.running
    assert window.problems.isVisibleTo(window)
    assert "max_epochs: 'ten' is not accepted" in window.problems.text()


def test_bad_model_argument_blocks_launch(make_window):
    window = make_window()
    set_arg(window, "hidden_size", "wide")
    assert window.launch("fit") is False
    assert "hidden_size" in window.problems.text()


def test_config_round_trip_through_yaml(make_window, tmp_path):
    window = make_window()
    set_flag(window, "max_epochs", "3")
    set_flag(window, "precision", "bf16")
    set_arg(window, "hidden_size", "16")
    config, problems = window.current_config()
    assert problems == []
    path = tmp_path / "saved.yaml"
    config.save(path)
    other = make_window(str(Path(config.model_script).with_name("autoencoder.py")))
    assert other.load_config_file(str(path))
    flags, _ = other.trainer_form.values()
    args, _ = other.model_form.values()
    assert flags["max_epochs"] == 3 and flags["precision"] == "bf16" and args["hidden_size"] == 16
    assert other.project.script_info.path == config.model_script


def test_fit_on_the_example_draws_curves_and_finishes_with_a_run_folder(make_window, qtbot):
    window = make_window()
    set_flag(window, "max_epochs", "2")
    assert window.launch("fit")
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    model = window.session.model
    assert model.status == "finished" and model.progress.epoch == 1
    window.metrics_view.refresh(force=True)
    assert "loss" not in model.metrics  # the progress bar's wall-clock samples are not a logged metric
    for name in ("train_loss", "val_loss", "val_acc"):
        x, y = window.metrics_view.curve_data(name)
        assert len(x) > 0 and len(x) == len(y), name
    run_dir = Path(model.log_dir)
    assert (run_dir / "events.jsonl").is_file() and (run_dir / "metrics.csv").is_file()
    assert model.checkpoints and os.path.exists(model.checkpoints[-1])  # top-k deletes older best files
    window.status_view.refresh()
    assert "FINISHED" in window.status_view.status.text()
    assert window.mode_actions["fit"].isEnabled() and not window.stop_action.isEnabled()
    # The README tour's step 3: the bundled example's flags fill Gradients, Learning rate, Weights and Profiler.
    names = model.metrics.names()
    assert any(n.startswith("lr-Adam") for n in names), names
    assert any(n.startswith("grad_2.0_norm_total") for n in names), names
    assert model.extras.get("profiler_report") and model.extras.get("model_summary")


def test_stop_leaves_a_checkpoint(make_window, qtbot, scripts):
    window = make_window(str(scripts / "tiny_model.py"))
    set_arg(window, "step_sleep", "0.02")
    set_flag(window, "max_epochs", "1000")
    assert window.launch("fit")
    qtbot.waitUntil(lambda: window.session.model.progress.step >= 3, timeout=60_000)
    assert window.stop_action.isEnabled()
    with qtbot.waitSignal(window.session.run_ended, timeout=30_000) as ended:
        window.stop()
        assert window.stop_action.text() == "Kill"
    assert ended.args[0] == "interrupted", window.console_view.plain_text()
    stopped = glob.glob(os.path.join(window.session.model.log_dir, "checkpoints", "stopped-*.ckpt"))
    assert stopped and stopped[0] in window.session.model.checkpoints
    assert "checkpoint saved" in ended.args[1]


def test_stop_of_a_two_process_run_stops_both_ranks_with_one_checkpoint(make_window, qtbot, scripts, monkeypatch):
    # Each spawned rank hears the stop through the relay, at its own batch: the ranks vote, so both stop together
    # (a rank stopping alone would leave the other waiting in its next all-reduce).
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    window = make_window(str(scripts / "tiny_model.py"))
    set_arg(window, "step_sleep", "0.01")
    window.trainer_form.set_values({"max_epochs": 1000, "accelerator": "cpu", "devices": 2,
                                    "strategy": "ddp_spawn"})
    assert window.launch("fit")
    qtbot.waitUntil(lambda: window.session.model.progress.step >= 3, timeout=120_000)
    with qtbot.waitSignal(window.session.run_ended, timeout=60_000) as ended:
        window.stop()
    assert ended.args[0] == "interrupted", window.console_view.plain_text()
    stopped = glob.glob(os.path.join(window.session.model.log_dir, "checkpoints", "stopped-*.ckpt"))
    assert len(stopped) == 1 and stopped[0] in window.session.model.checkpoints
    assert f"checkpoint saved to {stopped[0]}" in ended.args[1], "the copies' stop checkpoint is named"


def test_an_early_stop_is_named_on_the_finished_run(make_window, qtbot, scripts):
    window = make_window(str(scripts / "tiny_model.py"))
    # No epoch can improve on the first by 100: patience 1 stops the run after epoch 1 of 50.
    window.trainer_form.set_values({"max_epochs": 50, "callbacks": [
        {"class_path": "EarlyStopping", "init_args": {"monitor": "val_loss", "patience": 1, "min_delta": 100.0}}]})
    assert window.launch("fit")
    with qtbot.waitSignal(window.session.run_ended, timeout=60_000) as ended:
        pass
    status, reason = ended.args
    assert status == "finished" and reason.startswith("stopped early by EarlyStopping: Monitored metric val_loss "
                                                      "did not improve in the last 1 records"), reason
    assert "(best at epoch 0, global step 8; stopped at epoch 1, global step 16)" in reason
    window.status_view.refresh()
    assert window.status_view.reason.isVisibleTo(window) and window.status_view.reason.text() == reason
    assert window.status_view.bar.value() == 1000  # a finished run's bar is full, whatever the last stage was


def test_class_path_objects_from_a_config_are_kept_and_used(make_window, qtbot, scripts, tmp_path):
    """A config naming a logger and a profiler by class path: shown, sent unchanged, built by the engine."""
    logs = tmp_path / "my_logs"
    config = tmp_path / "objects.yaml"
    config.write_text(f"""trainer:
  max_epochs: 1
  logger: {{class_path: CSVLogger, init_args: {{save_dir: {logs}, name: exp}}}}
  profiler: {{class_path: SimpleProfiler, init_args: {{filename: perf}}}}
""")
    window = make_window(str(scripts / "tiny_model.py"))
    assert window.load_config_file(str(config))
    rows = window.trainer_form.rows
    assert rows["logger"].carried_label.text() == f"from config: CSVLogger(save_dir='{logs}', name='exp')"
    assert not rows["profiler"].carried_label.isHidden() and rows["profiler"].widget.isHidden()  # object, not combo
    assert window.launch("fit")
    with qtbot.waitSignal(window.session.run_ended, timeout=60_000) as ended:
        pass
    assert ended.args[0] == "finished", ended.args[1]
    run = logs / "exp" / "version_0"
    assert (run / "metrics.csv").is_file() and list(run.glob("*perf*.txt"))  # both objects were built and used
    rows["logger"].clear_button.click()  # back to the field: the default logger
    flags, problems = window.trainer_form.values()
    assert problems == [] and "logger" not in flags and flags["profiler"]["class_path"] == "SimpleProfiler"


def test_a_script_that_raises_shows_the_traceback_with_its_line(make_window, qtbot, scripts):
    window = make_window(str(scripts / "tiny_model.py"))
    set_arg(window, "fail_at_step", "2")
    assert window.launch("fit")
    with qtbot.waitSignal(window.session.run_ended, timeout=60_000) as ended:
        pass
    status, reason = ended.args
    assert status == "failed" and "ValueError: bad batch at step 2" in reason and "tiny_model.py, line" in reason
    window.console_view.refresh()
    text = window.console_view.plain_text()
    assert "Traceback" in text and 'raise ValueError(f"bad batch at step' in text
    assert "user print in epoch 0" in text  # the script's own print made it to the console
    assert window.views.currentWidget() is window.console_view
    assert window.session.model.exception["user_frame"]["file"].endswith("tiny_model.py")


def test_open_a_finished_run_replays_it(make_window, qtbot, scripts):
    window = make_window(str(scripts / "tiny_model.py"))
    set_flag(window, "max_epochs", "2")
    assert window.launch("fit")
    qtbot.waitSignal(window.session.run_ended, timeout=60_000).wait()
    live = {n: len(window.session.model.metrics.series(n)) for n in window.session.model.metrics.names()}
    log_dir = window.session.model.log_dir
    window.session.open_run(log_dir)
    replay = {n: len(window.session.model.metrics.series(n)) for n in window.session.model.metrics.names()}
    assert replay == live and window.session.model.status == "finished"


def test_callbacks_box_round_trips_class_path_entries(make_window):
    window = make_window()
    entries = [{"class_path": "EarlyStopping", "init_args": {"monitor": "val_acc", "mode": "max", "patience": 7,
                                                             "min_delta": 0.01, "stopping_threshold": 0.99}},
               {"class_path": "ModelCheckpoint", "init_args": {"monitor": "val_acc", "mode": "max", "save_top_k": 2,
                                                               "save_last": True, "every_n_epochs": 3}},
               {"class_path": "my.pkg.Custom", "init_args": {"x": 1}}]
    window.trainer_form.set_values({"callbacks": entries, "max_epochs": 2})
    assert window.trainer_form.callbacks.es_min_delta.value() == 0.01  # shown in its field
    flags, problems = window.trainer_form.values()
    assert problems == []
    assert flags["callbacks"][0] == entries[2]  # unknown entries are kept
    # Arguments the box has no field for (stopping_threshold, every_n_epochs) come back unchanged.
    assert flags["callbacks"][1] == entries[0]
    assert flags["callbacks"][2] == entries[1]


def test_tune_streams_lr_finder_points_and_reports_the_result(make_window, qtbot):
    window = make_window()  # the bundled example: its loss falls smoothly, so the finder suggests an LR
    assert window.launch("tune", overrides={"tune": {"lr_find": True, "scale_batch_size": False,
                                                      "lr_find_kwargs": {"num_training": 30}}})
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    points = window.session.model.extras.get("lr_find_point", [])
    assert 5 <= len(points) <= 30 and all(p["lr"] > 0 for p in points)
    assert "tuned lr = " in ended.args[1]
    log_dir = window.session.model.log_dir
    assert log_dir and os.path.isfile(os.path.join(log_dir, "events.jsonl"))


def test_resume_from_the_stop_checkpoint(make_window, qtbot, scripts):
    window = make_window(str(scripts / "tiny_model.py"))
    set_arg(window, "step_sleep", "0.02")
    set_flag(window, "max_epochs", "3")
    assert window.launch("fit")
    qtbot.waitUntil(lambda: window.session.model.progress.step >= 10, timeout=60_000)
    with qtbot.waitSignal(window.session.run_ended, timeout=30_000):
        window.stop()
    stopped = [p for p in window.session.model.checkpoints if "stopped-" in p]
    assert stopped
    window.project.set_checkpoint(stopped[0], resume=True)  # "Resume from here": resuming is an explicit choice
    set_arg(window, "step_sleep", "0.0")
    assert window.launch("fit")
    with qtbot.waitSignal(window.session.run_ended, timeout=60_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    first_step = window.session.model.metrics.series("train_loss").view()[0][0]
    assert first_step > 10  # resumed, not restarted
    assert window.session.model.progress.epoch == 2


def test_fit_from_a_csv_data_file(make_window, qtbot):
    window = make_window()
    csv = Path(window.project.script_info.path).parent / "data" / "machine_health.csv"
    window.project.set_data_path(str(csv))
    window.project.batch_size.setValue(64)
    window.project.val_split.setValue(0.25)
    set_flag(window, "max_epochs", "1")
    config, problems = window.current_config()
    assert problems == [] and config.data == {"path": str(csv), "batch_size": 64, "val_split": 0.25,
                                              "shuffle": True}
    assert window.launch("fit")
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    # 600 rows, 25 % held out: 450 training rows in batches of 64 = 8 steps in the one epoch.
    assert window.session.model.progress.step == 8


def test_missing_data_file_blocks_launch(make_window, tmp_path):
    window = make_window()
    window.project.set_data_path(str(tmp_path / "missing.csv"))
    assert window.launch("fit") is False
    assert "does not exist" in window.problems.text()


def test_debug_button_runs_fast_dev_run_in_one_click(make_window, qtbot):
    window = make_window()
    toolbar = window.findChild(QToolBar, "runToolbar")
    button = toolbar.widgetForAction(window.mode_actions["debug"])
    button.click()
    assert window.session.running
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    assert window.session.model.mode == "debug"
    assert window.session.model.progress.step == 1  # fast_dev_run: one training batch


def test_a_badly_formatted_free_text_flag_is_a_field_error(make_window):
    window = make_window()
    row = window.trainer_form.rows["max_time"]
    set_flag(window, "max_time", "1 hour")
    assert "d64545" in row.label.styleSheet()
    assert row.label.toolTip().startswith("max_time: '1 hour' is not accepted") and "DD:HH:MM:SS" in row.label.toolTip()
    assert window.launch("fit") is False
    assert "max_time: '1 hour' is not accepted" in window.problems.text()
    set_flag(window, "max_time", "00:00:05:00")
    assert row.label.toolTip().startswith("max_time:") and "not accepted" not in row.label.toolTip()
    flags, problems = window.trainer_form.values()
    assert problems == [] and flags["max_time"] == "00:00:05:00"
