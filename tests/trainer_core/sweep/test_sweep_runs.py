"""Sweeps end to end: trials as real child processes, Optuna's SQLite storage, the command line's exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MODEL = Path(__file__).with_name("sweep_model.py")


def _env() -> dict[str, str]:
    # One torch thread per process: two trials at once on a 2-core machine must not fight over OpenMP threads.
    return dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _run_config(tmp_path: Path, max_epochs: int = 2) -> Path:
    return _write(tmp_path / "run.yaml", {
        "seed_everything": 0,
        "trainer": {"max_epochs": max_epochs, "enable_progress_bar": False, "enable_model_summary": False},
        "model": {"script": str(MODEL), "init_args": {"lr": 0.001}}})


def _sweep(tmp_path: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "trainer_core", "sweep", *args], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def _study(sweep_dir: Path):
    import optuna

    from trainer_core.sweep.study import storage_from_url

    storage = storage_from_url(f"sqlite:///{sweep_dir / 'study.db'}")
    return optuna.load_study(study_name="sweep", storage=storage)


@pytest.mark.parametrize(("sweep", "message"), [
    ({"parameters": {"model.dropout": {"type": "float", "low": 0.0, "high": 0.5}}},
     r"parameter model.dropout: the model class takes no argument `dropout` \(it takes: hidden, lr, offset\)"),
    ({"metric": "val_acc", "parameters": {"model.lr": {"type": "float", "low": 0.001, "high": 0.1}}},
     r"metric val_acc: the script never logs it .*it logs: .*val_loss"),
    ({"parameters": {"model.lr": {"type": "float", "low": 0.1, "high": 0.01}}}, r"model.lr: low \(0.1\) is greater"),
])
def test_bad_input_exits_2_before_any_trial(tmp_path: Path, sweep: dict, message: str) -> None:
    out = _sweep(tmp_path, "--config", str(_run_config(tmp_path)), "--sweep", str(_write(tmp_path / "s.yaml", sweep)),
                 "--n_trials", "2", "--sweep_dir", "sw")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    import re

    assert re.search(message, out.stderr), out.stderr
    assert not list((tmp_path / "sw").glob("trial_*")), "no trial may start on bad input"


def test_trials_run_in_parallel_and_a_rerun_tops_the_study_up(tmp_path: Path) -> None:
    sweep = _write(tmp_path / "s.yaml", {"sampler": "random", "seed": 1, "parameters": {
        "model.lr": {"type": "float", "low": 0.01, "high": 0.2, "log": True},
        "model.hidden": {"type": "int", "low": 4, "high": 16, "step": 4}}})
    args = ("--config", str(_run_config(tmp_path)), "--sweep", str(sweep), "--sweep_dir", "sw", "--parallel", "2")
    out = _sweep(tmp_path, *args, "--n_trials", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "minimize val_loss" in out.stdout, "metric and direction come from the model's ModelCheckpoint"
    assert "Best trial: #" in out.stdout
    sweep_dir = tmp_path / "sw"
    for number in (0, 1):  # each trial is an ordinary run folder
        run = sweep_dir / f"trial_{number}" / "lightning_logs" / "version_0"
        assert (run / "events.jsonl").is_file() and (run / "hparams.yaml").is_file()
        assert list((run / "checkpoints").glob("*.ckpt"))
    first_result = (sweep_dir / "trial_0" / "result.json").stat().st_mtime_ns
    best = yaml.safe_load((sweep_dir / "best.yaml").read_text())
    study = _study(sweep_dir)
    assert best["model"]["init_args"]["lr"] == pytest.approx(study.best_params["model.lr"])
    assert best["model"]["init_args"]["hidden"] == study.best_params["model.hidden"]

    again = _sweep(tmp_path, *args, "--n_trials", "3")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 trial(s) to run" in again.stdout
    states = [t.state.name for t in _study(sweep_dir).trials]
    assert states == ["COMPLETE", "COMPLETE", "COMPLETE"]
    assert (sweep_dir / "trial_0" / "result.json").stat().st_mtime_ns == first_result, "trial 0 ran again"

    fit = subprocess.run([sys.executable, "-m", "trainer_core", "fit", "--config", str(sweep_dir / "best.yaml"),
                          "--max_epochs", "1", "--default_root_dir", str(tmp_path / "refit")], cwd=tmp_path,
                         env=_env(), capture_output=True, text=True, timeout=240)
    assert fit.returncode == 0, "best.yaml is a run config the fit command takes: " + fit.stderr[-2000:]


def test_the_pruner_stops_a_clearly_worse_trial(tmp_path: Path) -> None:
    import optuna

    from trainer_core.sweep.study import storage_from_url

    sweep_dir = tmp_path / "sw"
    sweep_dir.mkdir()
    study = optuna.create_study(study_name="sweep", direction="minimize",
                                storage=storage_from_url(f"sqlite:///{sweep_dir / 'study.db'}"))
    study.enqueue_trial({"model.offset": 0.0})  # a normal trial first, then one 100 worse at every validation
    study.enqueue_trial({"model.offset": 100.0})
    sweep = _write(tmp_path / "s.yaml", {"pruner": {"type": "median", "n_startup_trials": 1, "n_warmup_steps": 0},
                                         "parameters": {"model.offset": {"type": "categorical",
                                                                         "choices": [0.0, 100.0]}}})
    out = _sweep(tmp_path, "--config", str(_run_config(tmp_path, max_epochs=4)), "--sweep", str(sweep),
                 "--sweep_dir", "sw", "--n_trials", "2")
    assert out.returncode == 0, out.stdout + out.stderr
    normal, worse = _study(sweep_dir).trials
    assert normal.state.name == "COMPLETE" and len(normal.intermediate_values) == 4
    assert worse.state.name == "PRUNED"
    assert len(worse.intermediate_values) == 1, "pruned at its first validation, not trained for 4 epochs"
    assert "trial 1 pruned after 1 validation(s)" in out.stdout


@pytest.mark.slow
def test_killing_the_sweep_leaves_a_study_that_resumes_without_repeats(tmp_path: Path) -> None:
    from optuna.trial import TrialState

    sweep = _write(tmp_path / "s.yaml", {"sampler": "random", "seed": 3, "parameters": {
        "model.lr": {"type": "float", "low": 0.01, "high": 0.2, "log": True}}})
    args = ["--config", str(_run_config(tmp_path, max_epochs=30)), "--sweep", str(sweep), "--sweep_dir", "sw",
            "--n_trials", "3"]
    proc = subprocess.Popen([sys.executable, "-m", "trainer_core", "sweep", *args], cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sweep_dir = tmp_path / "sw"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # wait for: one trial done, the next one training
        if (sweep_dir / "study.db").exists():
            trials = _study(sweep_dir).trials
            if [t.state for t in trials[:1]] == [TrialState.COMPLETE] and len(trials) == 2 \
                    and trials[1].intermediate_values:
                break
        if proc.poll() is not None:
            pytest.fail("the sweep ended before it could be killed: " + proc.stdout.read())
        time.sleep(0.2)
    else:
        pytest.fail("no trial completed in time")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = sweep_dir / "trial_1" / "result.json"
    deadline = time.monotonic() + 60
    while not interrupted.exists() and time.monotonic() < deadline:  # the orphaned trial stops itself
        time.sleep(0.2)
    assert yaml.safe_load(interrupted.read_text())["state"] == "stopped"
    assert list((sweep_dir / "trial_1").rglob("stopped-*.ckpt")), "a stopped trial saves a checkpoint"

    out = _sweep(tmp_path, *args, timeout=400)
    assert out.returncode == 0, out.stdout + out.stderr
    trials = _study(sweep_dir).trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 3 and complete[0].number == 0, "trial 0 is kept, not run again"
    assert trials[1].state == TrialState.FAIL and trials[1].user_attrs["interrupted"]
    retried = [t for t in complete if t.params == trials[1].params]
    assert retried and retried[0].number > 1, "the interrupted trial's values run again"


@pytest.mark.slow
def test_eight_trials_two_at_a_time_beat_the_bundled_example_defaults(tmp_path: Path) -> None:
    """The bundled example and its recommended sweep file, shortened to 3 epochs a trial."""
    example = ROOT / "resources" / "examples"
    run = yaml.safe_load((example / "mlp_classifier.yaml").read_text())
    run["model"]["script"] = str(example / "mlp_classifier.py")
    run["trainer"].update(max_epochs=3, enable_progress_bar=False, enable_model_summary=False)
    run.pop("tune", None)
    config = _write(tmp_path / "run.yaml", run)
    default = subprocess.run([sys.executable, "-m", "trainer_core", "fit", "--config", str(config),
                              "--default_root_dir", str(tmp_path / "default")], cwd=tmp_path, env=_env(),
                             capture_output=True, text=True, timeout=300)
    assert default.returncode == 0, default.stderr[-2000:]
    import csv

    rows = list(csv.DictReader((tmp_path / "default" / "lightning_logs" / "version_0" / "metrics.csv").open()))
    default_best = max(float(r["val_acc"]) for r in rows if r.get("val_acc"))

    out = _sweep(tmp_path, "--config", str(config), "--sweep", str(example / "mlp_classifier.sweep.yaml"),
                 "--sweep_dir", "sw", "--n_trials", "8", "--parallel", "2", timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    study = _study(tmp_path / "sw")
    assert study.direction.name == "MAXIMIZE", "val_acc is maximised, as the model's ModelCheckpoint says"
    assert len([t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]) == 8
    assert study.best_value > default_best, (study.best_value, default_best)


@pytest.mark.slow
def test_two_sweep_processes_share_one_study_through_its_storage(tmp_path: Path) -> None:
    """What SLURM jobs (or several machines) do: the same sweep command, one storage URL."""
    sweep = _write(tmp_path / "s.yaml", {"sampler": "random", "parameters": {
        "model.lr": {"type": "float", "low": 0.01, "high": 0.2, "log": True}}})
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    config = str(_run_config(tmp_path, max_epochs=2))
    procs = [subprocess.Popen([sys.executable, "-m", "trainer_core", "sweep", "--config", config, "--sweep",
                               str(sweep), "--n_trials", "4", "--storage", storage, "--sweep_dir", f"sw{i}"],
                              cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for i in range(2)]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    import optuna

    from trainer_core.sweep.study import storage_from_url

    trials = optuna.load_study(study_name="sweep", storage=storage_from_url(storage)).trials
    assert all(t.state.name == "COMPLETE" for t in trials)
    assert 4 <= len(trials) <= 5, "the study's total, with at most one extra when both start the last at once"
    ran = [sum(1 for _ in (tmp_path / f"sw{i}").glob("trial_*")) for i in range(2)]
    assert all(n >= 1 for n in ran) and sum(ran) == len(trials), ran
    assert len({t.number for t in trials}) == len(trials)
