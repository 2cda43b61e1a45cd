"""The studio's Sweep: the study read back, the view drawn from it, the dialog's checks, the controller's process."""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from studio.models.sweep_state import best_so_far, read_sweep, sweep_command, write_sweep_files
from studio.qt.dashboards.sweep_view import SweepView, trials_table
from studio.qt.sweep_dialog import Candidate, SweepDialog
from studio.services.sweep_controller import SweepController


def _recorded_sweep(folder: Path, values: list[float | None], *, pruned: int | None = None) -> Path:
    """A sweep folder as `trainer-core sweep` leaves it: sweep.yaml, study.db with trials, trial run folders."""
    import optuna

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sweep.yaml").write_text(yaml.safe_dump({"metric": "val_loss", "direction": "minimize", "parameters": {
        "model.lr": {"type": "float", "low": 1e-3, "high": 1.0, "log": True},
        "model.hidden": {"type": "int", "low": 8, "high": 64, "step": 8}}}))
    study = optuna.create_study(study_name="sweep", direction="minimize", storage=f"sqlite:///{folder / 'study.db'}")
    for number, value in enumerate(values):
        trial = study.ask()
        trial.suggest_float("model.lr", 1e-3, 1.0, log=True)
        trial.suggest_int("model.hidden", 8, 64, step=8)
        (folder / f"trial_{number}" / "lightning_logs" / "version_0").mkdir(parents=True)
        if number == pruned:
            trial.report(9.0, 1)
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        elif value is not None:
            trial.report(value * 2, 1)
            trial.report(value, 2)
            study.tell(trial, value)
    return folder


def test_the_study_reads_back_with_states_best_and_importance(tmp_path: Path) -> None:
    folder = _recorded_sweep(tmp_path / "sw", [0.5, 0.2, 0.9, 0.3, None], pruned=2)
    snap = read_sweep(folder)
    assert [t.state for t in snap.trials] == ["complete", "complete", "pruned", "complete", "running"]
    assert snap.metric == "val_loss" and snap.best is not None and snap.best.number == 1
    assert snap.trials[0].values == [1.0, 0.5] and snap.trials[0].run_dir.endswith("version_0")
    assert best_so_far(snap.trials, "minimize") == [(0, 0.5), (1, 0.2), (3, 0.2)]
    assert set(snap.importances) == {"model.lr", "model.hidden"}
    assert math.isclose(sum(snap.importances.values()), 1.0, rel_tol=1e-6)


def test_a_folder_without_a_study_yet_is_an_empty_sweep(tmp_path: Path) -> None:
    assert read_sweep(tmp_path).trials == []


def test_the_view_draws_the_trials_and_emits_its_signals(qtbot, tmp_path: Path) -> None:
    snap = read_sweep(_recorded_sweep(tmp_path / "sw", [0.5, 0.2, 0.9, 0.3], pruned=2))
    view = SweepView()
    qtbot.addWidget(view)
    view.show()
    view.show_snapshot(snap)
    assert "best #1 = 0.2" in view.summary.text() and "1 pruned" in view.summary.text()
    table = trials_table(snap)
    assert table.headers == ["trial", "state", "model.lr", "model.hidden", "val_loss", "validations",
                             "duration (s)"]
    assert view.model.highlight == {1}, "the best trial's row is highlighted"
    assert view.model.table.rows[2][1] == "pruned"
    assert view.parallel.axes == [], "charts not on screen are drawn when shown, not on every snapshot"
    view.charts.setCurrentIndex(1)
    assert [a.name for a in view.parallel.axes] == ["model.lr (log)", "model.hidden", "val_loss"], \
        "the learning rate was searched on a log scale and is drawn on one"
    lr = snap.trials[0].params["model.lr"]
    lrs = [t.params["model.lr"] for t in snap.trials]
    expected = (math.log10(lr) - math.log10(min(lrs))) / (math.log10(max(lrs)) - math.log10(min(lrs)))
    assert view.parallel.axes[0].positions[0] == pytest.approx(expected)
    curves = [i for i in view.parallel.plot_item.items if type(i).__name__ == "PlotCurveItem"]
    assert len(curves) <= 4, "lines of one colour share one item"
    staircase = view.best_plot.getPlotItem().listDataItems()[-1].getData()
    # 0.5 from trial 0 until trial 1 beats it, then 0.2 held to the last trial
    assert list(zip(staircase[0], [round(v, 3) for v in staircase[1]])) == [
        (0, 0.5), (1, 0.5), (1, 0.2), (3, 0.2), (3, 0.2), (3.5, 0.2)]
    with qtbot.waitSignal(view.best_applied) as applied:
        view.apply_best.click()
    assert applied.args[0] == snap.best.params
    with qtbot.waitSignal(view.trial_opened) as opened:
        view._on_double_click(view.model.index(3, 0))
    assert opened.args[0] == snap.trials[3].run_dir


def test_the_dialog_builds_the_sweep_file_and_names_a_bad_row(qtbot) -> None:
    dialog = SweepDialog([Candidate("model.lr", "float", 0.01), Candidate("model.hidden", "int", 32),
                          Candidate("trainer.accumulate_grad_batches", "categorical", 1, (1, 2, 4))],
                         metrics=["val_loss"])
    qtbot.addWidget(dialog)
    with pytest.raises(ValueError, match="Tick at least one"):
        dialog.build_request()
    lr, hidden, accumulate = dialog.rows
    lr.toggle.setChecked(True)
    accumulate.toggle.setChecked(True)
    hidden.toggle.setChecked(True)
    hidden.low.setText("64")
    hidden.high.setText("16")
    with pytest.raises(ValueError, match="model.hidden: low must be smaller than high"):
        dialog.build_request()
    hidden.toggle.setChecked(False)
    dialog.parallel.setValue(2)
    request = dialog.build_request()
    assert request.sweep["parameters"] == {
        "model.lr": {"type": "float", "low": 0.001, "high": 0.1, "log": True},
        "trainer.accumulate_grad_batches": {"type": "categorical", "choices": [1, 2, 4]}}
    assert "metric" not in request.sweep, "empty metric: the run's monitor decides"
    assert request.parallel == 2 and request.n_trials == 16


def test_the_written_files_make_the_command_a_server_can_rerun(tmp_path: Path) -> None:
    run, sweep = write_sweep_files(tmp_path / "sw", {"model": {"script": "m.py"}}, {"parameters": {}})
    command = sweep_command(run, sweep, sweep_dir=str(tmp_path / "sw"), n_trials=8, parallel=2)
    assert command[1:4] == ["-m", "trainer_core", "sweep"]
    assert command[command.index("--config") + 1] == str(run) and yaml.safe_load(run.read_text())["model"]
    assert command[command.index("--n_trials") + 1] == "8" and command[command.index("--parallel") + 1] == "2"


FAKE_SWEEP = textwrap.dedent("""
    import signal, sys, optuna
    folder = sys.argv[1]
    study = optuna.create_study(study_name="sweep", storage=f"sqlite:///{folder}/study.db")
    trial = study.ask()
    trial.suggest_float("model.lr", 0.001, 0.1)
    study.tell(trial, 0.25)
    print("trial 0 complete: val_loss=0.25", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    signal.pause()
""")


def test_the_controller_streams_snapshots_and_stop_ends_the_sweep(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "sw"
    folder.mkdir()
    controller = SweepController(poll_ms=100)
    lines: list[str] = []
    controller.output.connect(lines.append)
    try:
        with qtbot.waitSignal(controller.snapshot, timeout=120_000,
                              check_params_cb=lambda snap: len(snap.trials) == 1):
            controller.start([sys.executable, "-c", FAKE_SWEEP, str(folder)], str(folder))
        assert controller.running
        qtbot.waitUntil(lambda: any("trial 0 complete" in line for line in lines), timeout=60_000)
        with qtbot.waitSignal(controller.finished, timeout=60_000) as finished:
            controller.stop()
        assert finished.args[0] == 130
        assert not controller.running
    finally:
        controller.shutdown()


def test_streaming_snapshots_redraw_the_chart_at_most_every_interval(qtbot, tmp_path: Path, monkeypatch) -> None:
    import studio.qt.dashboards.sweep_view as sweep_view

    monkeypatch.setattr(sweep_view, "_MIN_CHART_INTERVAL_S", 0.5)
    first = read_sweep(_recorded_sweep(tmp_path / "a", [0.5, 0.2]))
    second = read_sweep(_recorded_sweep(tmp_path / "b", [0.5, 0.2, 0.1]))
    view = SweepView()
    qtbot.addWidget(view)
    view.show()
    view.show_snapshot(first)
    drawn = view.best_plot.getPlotItem().listDataItems()[-1].getData()[1]
    view.show_snapshot(second)  # a moment later: the table follows, the chart waits for its interval
    assert view.model.rowCount() == 3
    assert list(view.best_plot.getPlotItem().listDataItems()[-1].getData()[1]) == list(drawn)
    qtbot.waitUntil(lambda: round(view.best_plot.getPlotItem().listDataItems()[-1].getData()[1][-1], 3) == 0.1,
                    timeout=5000)
