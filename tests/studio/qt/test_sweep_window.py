"""The Sweep in the main window: a sweep folder opens in the Sweep tab, Apply best fills the forms, and the Sweep
button runs `trainer-core sweep` on the forms."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from studio.qt import window_files, window_sweep
from studio.qt.sweep_dialog import SweepDialog, SweepRequest


def _recorded_sweep(folder: Path) -> Path:
    import optuna

    folder.mkdir(parents=True)
    (folder / "sweep.yaml").write_text(yaml.safe_dump({"metric": "val_acc", "direction": "maximize"}))
    study = optuna.create_study(study_name="sweep", direction="maximize", storage=f"sqlite:///{folder / 'study.db'}")
    for lr, hidden, accumulate, value in ((0.01, 32, 1, 0.80), (0.05, 48, 2, 0.93), (0.2, 16, 4, 0.70)):
        study.enqueue_trial({"model.lr": lr, "model.hidden_size": hidden,
                             "trainer.accumulate_grad_batches": accumulate})
        trial = study.ask()
        trial.suggest_float("model.lr", 1e-3, 0.3, log=True)
        trial.suggest_int("model.hidden_size", 16, 64, step=16)
        trial.suggest_categorical("trainer.accumulate_grad_batches", [1, 2, 4])
        study.tell(trial, value)
    return folder


def test_a_sweep_folder_opens_in_the_sweep_tab_and_apply_best_fills_the_forms(make_window, qtbot, tmp_path):
    window = make_window(str(tmp_path))  # nothing open yet: the sweep brings its own base config
    folder = _recorded_sweep(tmp_path / "sw")
    example = Path(__file__).resolve().parents[3] / "resources" / "examples" / "mlp_classifier.py"
    (folder / "run.yaml").write_text(yaml.safe_dump({"trainer": {"max_epochs": 7}, "model": {"script": str(example)}}))
    with qtbot.waitSignal(window.sweep_controller.snapshot, timeout=20_000):
        window_files.open_path(window, str(folder))
    assert window.views.currentWidget() is window.sweep_view
    assert window.project.script_info.path == str(example), "the sweep's run config is loaded into the forms"
    assert window.trainer_form.values()[0]["max_epochs"] == 7
    view = window.sweep_view
    qtbot.waitUntil(lambda: view.snapshot is not None)
    best = view.snapshot.best
    assert best is not None and best.value == pytest.approx(0.93)
    assert "maximize val_acc: best #1 = 0.93" in view.summary.text()
    view.apply_best.click()
    values, problems = window.model_form.values()
    assert problems == []
    assert values["lr"] == pytest.approx(0.05) and values["hidden_size"] == 48
    flags, _ = window.trainer_form.values()
    assert flags["accumulate_grad_batches"] == 2


def test_the_sweep_candidates_are_the_forms_arguments_and_numeric_flags(make_window):
    window = make_window()
    found = {c.name: c for c in window_sweep.candidates(window)}
    assert found["model.lr"].kind == "float" and found["model.lr"].current == pytest.approx(0.01)
    assert found["model.hidden_size"].kind == "int"
    assert found["trainer.gradient_clip_val"].kind == "float"
    assert found["trainer.gradient_clip_algorithm"].kind == "categorical"
    assert not any(name.startswith(("trainer.gpus", "trainer.devices", "trainer.logger")) for name in found), \
        "hardware and logging flags are not hyper-parameters"


@pytest.mark.slow
def test_the_sweep_button_runs_trainer_core_sweep_on_the_forms(make_window, qtbot, monkeypatch, tmp_path):
    window = make_window()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    window.trainer_form.set_values({"max_epochs": 2})
    request = SweepRequest(sweep={"sampler": "random", "parameters": {
        "model.lr": {"type": "float", "low": 0.005, "high": 0.05, "log": True}}}, n_trials=2, parallel=2)

    def accept(dialog: SweepDialog) -> int:
        dialog.request = request
        return 1

    monkeypatch.setattr(SweepDialog, "exec", accept)
    with qtbot.waitSignal(window.sweep_controller.finished, timeout=400_000) as finished:
        assert window_sweep.start_sweep(window)
    assert finished.args[0] == 0
    qtbot.waitUntil(lambda: window.sweep_view.snapshot is not None
                    and [t.state for t in window.sweep_view.snapshot.trials] == ["complete", "complete"],
                    timeout=20_000)
    folder = Path(window.sweep_controller.sweep_dir)
    assert folder.parent == Path(os.environ["TRAINING_STUDIO_RUNS_DIR"]) / "sweeps"
    assert (folder / "best.yaml").is_file()
    assert yaml.safe_load((folder / "run.yaml").read_text())["trainer"]["max_epochs"] == 2
