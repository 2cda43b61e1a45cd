"""The run toolbar's "Run on": Fit/Tune/Sweep start on this computer, detached on a server over a real sshd, or as
a job of the real one-node SLURM cluster, and the run is followed live in the window's views."""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import QSettings

from studio.models.run_state import RunStatus
from studio.qt import run_target_launch
from studio.qt.run_target import LOCAL, SERVER, SLURM, RunTarget, RunTargetBox
from studio.qt.slurm_dialog import SlurmDialog
from studio.services.remote.calls import wait_for_calls
from studio.services.remote.servers import remember_server, saved_servers
from studio.services.remote.ssh import SshTarget
from tests.remote.qt.test_remote_dialog import TINY_MODEL
from tests.remote.sshd import SshServer


@pytest.fixture
def tiny_window(qtbot, tmp_path, monkeypatch):
    """The studio window on a tiny model whose data is made in its script; job folders go under tmp_path/server."""
    from studio.app import create_window

    monkeypatch.setenv("TRAINING_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("TRAINING_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setattr(run_target_launch, "JOBS_ROOT", str(tmp_path / "server"))
    script = tmp_path / "tiny.py"
    script.write_text(TINY_MODEL)
    window = create_window(str(script))
    qtbot.addWidget(window)
    window.trainer_form.set_values({"max_epochs": 2})
    yield window
    window.session.stop_following()
    window.session.shutdown()
    window.sweep_controller.shutdown()
    assert wait_for_calls()


def wait_for_console(qtbot, session, text: str, *, timeout_s: float) -> None:
    """Wait until the console has a line with ``text``; on time-out the failure shows the whole console."""
    try:
        qtbot.waitUntil(lambda: any(text in line for _level, line in session.model.console),
                        timeout=int(timeout_s * 1000))
    except qtbot.TimeoutError:
        console = "\n".join(f"{level}: {line}" for level, line in session.model.console)
        pytest.fail(f"no console line with {text!r} within {timeout_s:g} s; the console:\n{console}")


def test_run_on_offers_this_computer_the_saved_servers_and_slurm(qtbot, tmp_path) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    gpu = SshTarget(host="gpu", user="ana", port=2200, identity_file="~/.ssh/id_gpu", python="/opt/env/bin/python")
    remember_server(settings, SshTarget(host="old"))
    remember_server(settings, gpu)
    assert saved_servers(settings) == [gpu, SshTarget(host="old")], "the newest connection first, all it needs"
    box = RunTargetBox(settings=settings, local_slurm=True)
    qtbot.addWidget(box)
    assert [t.label() for t in box.targets()] == ["This computer", "ana@gpu:2200 (ssh)", "old (ssh)",
                                                  "SLURM on ana@gpu:2200", "SLURM on old", "SLURM on this computer"]
    assert box.current().kind == LOCAL and box.combo.currentText() == "This computer"
    with qtbot.waitSignal(box.connect_requested):
        box.combo.activated.emit(box.combo.count() - 1)  # "Connect to a server…"
    assert box.current().kind == LOCAL and box.combo.currentText() == "This computer", "the choice stays"
    with qtbot.waitSignal(box.changed) as changed:
        box.combo.activated.emit(1)
    assert changed.args[0] == RunTarget(kind=SERVER, server=gpu) and box.current().server == gpu
    new = SshTarget(host="new")
    box.add_server(new)
    assert box.targets()[1] == RunTarget(kind=SERVER, server=new) and box.current().server == gpu
    assert "password" not in (tmp_path / "settings.ini").read_text().lower()


def test_a_connection_that_works_in_the_dialog_is_offered_in_run_on(tiny_window, qtbot, sshd: SshServer,
                                                                   tmp_path) -> None:
    from studio.qt.remote_dialog import RemoteDialog

    box = tiny_window.run_target_box
    box.combo.activated.emit(box.combo.count() - 1)  # "Connect to a server…" opens File ▸ Connect to a server…
    [dialog] = tiny_window.findChildren(RemoteDialog)
    dialog.set_target(sshd.target)
    dialog.root.setText(str(tmp_path))
    with qtbot.waitSignal(dialog.connected, timeout=30_000):
        dialog.browse_button.click()
    assert RunTarget(kind=SERVER, server=sshd.target) in box.targets()
    assert RunTarget(kind=SLURM, server=sshd.target) in box.targets()


def test_a_server_that_refuses_the_login_is_one_line_and_the_window_never_waits(tiny_window, qtbot,
                                                                                 sshd: SshServer, tmp_path) -> None:
    bad = replace(sshd.target, identity_file=str(tmp_path / "no_such_key"))
    tiny_window.run_target_box.set_current(RunTarget(kind=SERVER, server=bad))
    began = time.monotonic()
    assert tiny_window.launch("fit")
    assert time.monotonic() - began < 2.0, "the connection is made off the GUI thread"
    assert not tiny_window.session.running, "nothing started on this computer"
    assert tiny_window.launch("fit") and "being started on a server" in tiny_window.problems.text(), \
        "a second click while the first start is under way starts nothing"
    qtbot.waitUntil(lambda: "refused the login" in tiny_window.problems.text(), timeout=30_000)
    assert "authorized_keys" in tiny_window.problems.text() and tiny_window.remote_starts == 0


@pytest.mark.slow  # a real fit started on the server and followed to its end: about 25 s on 2 busy cores
def test_fit_on_a_server_runs_detached_there_and_is_followed_live(tiny_window, qtbot, sshd: SshServer,
                                                                   tmp_path) -> None:
    tiny_window.run_target_box.set_current(RunTarget(kind=SERVER, server=sshd.target))
    with qtbot.waitSignal(tiny_window.session.run_started, timeout=180_000):
        began = time.monotonic()
        assert tiny_window.launch("fit")
        assert time.monotonic() - began < 2.0, "sending the files and starting the run happen off the GUI thread"
        assert not tiny_window.session.running, "nothing started on this computer"
    session = tiny_window.session
    [job] = (tmp_path / "server").iterdir()
    assert session.model.log_dir.startswith(f"{sshd.target.label()}:{job}/lightning_logs/")
    assert (job / "tiny.py").is_file() and (job / "run.log").is_file(), "the script went along; output logged"
    assert yaml.safe_load((job / "run.yaml").read_text())["model"]["script"] == "tiny.py"
    qtbot.waitUntil(lambda: session.model.ended, timeout=180_000)
    assert session.model.status == RunStatus.FINISHED, session.model.reason
    assert len(session.model.metrics.series("loss")) > 0, "the run's metrics arrived in the views"


def test_slurm_from_the_forms_shows_the_job_form_sized_from_the_trainer_flags(tiny_window, qtbot) -> None:
    if shutil.which("sbatch") is None:
        pytest.skip("slurm-wlm is not installed (./dev.sh test installs it when run as root)")
    tiny_window.trainer_form.set_values({"max_epochs": 2, "num_nodes": 2, "devices": 4, "accelerator": "gpu"})
    tiny_window.run_target_box.set_current(RunTarget(kind=SLURM))
    assert tiny_window.launch("tune", overrides={"tune": {"lr_find": True}})
    [dialog] = tiny_window.findChildren(SlurmDialog)
    assert (dialog.nodes.value(), dialog.tasks.value(), dialog.gpus.value()) == (2, 4, 4)
    script = dialog.script.toPlainText()
    assert "#SBATCH --nodes=2" in script and "#SBATCH --gpus-per-node=4" in script
    assert "trainer_core tune --config tiny.yaml --num_nodes 2 --devices 4 --accelerator gpu" in script
    assert yaml.safe_load(dialog.config.read_text())["tune"]["lr_find"] is True, "the toolbar's finder choice"
    assert dialog.job_id is None and not tiny_window.session.running, "nothing is submitted before review"


@pytest.mark.slow  # a real fit under srun on the one-node cluster, submitted over ssh: about 30 s on 2 busy cores
def test_fit_on_slurm_over_ssh_is_submitted_after_review_and_followed(tiny_window, qtbot, sshd: SshServer,
                                                                      slurm_cluster, tmp_path) -> None:
    # The login node's environment would name the cluster; the test cluster's config travels with the commands.
    tiny_window.run_target_box.set_current(RunTarget(kind=SLURM, server=sshd.target,
                                                     slurm_env=(("SLURM_CONF", str(slurm_cluster.conf)),)))
    assert tiny_window.launch("fit")
    [dialog] = tiny_window.findChildren(SlurmDialog)
    assert dialog.python.text() == sshd.target.python
    session = tiny_window.session
    with qtbot.waitSignal(session.run_started, timeout=180_000):
        dialog.submit_button.click()
    assert session.model.log_dir.startswith(f"{sshd.target.label()}:{tmp_path / 'server'}/slurm-tiny-fit-")
    qtbot.waitUntil(lambda: session.model.ended, timeout=180_000)
    assert session.model.status == RunStatus.FINISHED, session.model.reason
    qtbot.waitUntil(lambda: any("ended: COMPLETED" in line for _level, line in session.model.console),
                    timeout=60_000)


@pytest.mark.slow  # trainer-core sweep started on the server, two trials followed in turn: about 70 s
def test_sweep_on_a_server_runs_trainer_core_sweep_there_and_follows_each_trial(tiny_window, qtbot,
                                                                                sshd: SshServer, tmp_path,
                                                                                monkeypatch) -> None:
    from studio.qt import window_sweep
    from studio.qt.sweep_dialog import SweepDialog, SweepRequest

    request = SweepRequest(sweep={"sampler": "random", "metric": "val_loss", "direction": "minimize", "parameters": {
        "trainer.max_epochs": {"type": "int", "low": 1, "high": 2}}}, n_trials=2, parallel=1)

    def accept(dialog: SweepDialog) -> int:
        dialog.request = request
        return 1

    monkeypatch.setattr(SweepDialog, "exec", accept)
    tiny_window.run_target_box.set_current(RunTarget(kind=SERVER, server=sshd.target))
    session = tiny_window.session
    followed: list[str] = []
    session.run_started.connect(lambda _mode: followed.append(session.model.log_dir))
    ended: list[str] = []
    session.run_ended.connect(lambda status, _reason: ended.append(status))
    assert window_sweep.start_sweep(tiny_window)
    assert not tiny_window.sweep_controller.running, "no sweep runs on this computer"
    wait_for_console(qtbot, session, "has ended", timeout_s=300)
    [job] = (tmp_path / "server").iterdir()
    assert (job / run_target_launch.SWEEP_FILE).is_file() and (job / "tiny.py").is_file()
    trials = sorted(str(path.parent) for path in job.glob("trial_*/**/events.jsonl"))
    assert len(trials) == 2 and sorted(w.removeprefix(f"{sshd.target.label()}:") for w in followed) == trials
    assert ended == [RunStatus.FINISHED, RunStatus.FINISHED]
    assert _trial_states(job / "study.db") == ["COMPLETE", "COMPLETE"], "each trial reported its val_loss"


@pytest.mark.slow  # trainer-core sweep as a job of the one-node cluster, two trials followed in turn: about 70 s
def test_sweep_on_slurm_submits_trainer_core_sweep_and_follows_each_trial(tiny_window, qtbot, slurm_cluster,
                                                                          tmp_path, monkeypatch) -> None:
    from studio.qt import window_sweep
    from studio.qt.sweep_dialog import SweepDialog, SweepRequest

    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    request = SweepRequest(sweep={"sampler": "random", "metric": "val_loss", "direction": "minimize", "parameters": {
        "trainer.max_epochs": {"type": "int", "low": 1, "high": 2}}}, n_trials=2, parallel=1)

    def accept(dialog: SweepDialog) -> int:
        dialog.request = request
        return 1

    monkeypatch.setattr(SweepDialog, "exec", accept)
    tiny_window.run_target_box.set_current(RunTarget(kind=SLURM))
    assert window_sweep.start_sweep(tiny_window)
    [dialog] = tiny_window.findChildren(SlurmDialog)
    assert (dialog.nodes.value(), dialog.tasks.value()) == (1, 1), "one process runs the study"
    assert "--n_trials 2 --parallel 1 --sweep_dir ." in dialog.script.toPlainText()
    dialog.python.setText(sys.executable)
    session = tiny_window.session
    followed: list[str] = []
    session.run_started.connect(lambda _mode: followed.append(session.model.log_dir))
    ended: list[str] = []
    session.run_ended.connect(lambda status, _reason: ended.append(status))
    snapshots: list = []
    tiny_window.sweep_controller.snapshot.connect(snapshots.append)
    dialog.submit_button.click()
    wait_for_console(qtbot, session, "has ended", timeout_s=300)
    job = dialog.config.parent
    assert (job / "study.db").is_file(), "the job's folder is the sweep folder"
    trials = sorted(str(path.parent) for path in job.glob("trial_*/**/events.jsonl"))
    assert len(trials) == 2 and sorted(followed) == trials, "each trial was followed in turn"
    assert ended == [RunStatus.FINISHED, RunStatus.FINISHED]
    assert _trial_states(job / "study.db") == ["COMPLETE", "COMPLETE"], "each trial reported its val_loss"
    # The folder is on this computer: the Sweep tab read its study as the trials ended, to compare them there.
    qtbot.waitUntil(lambda: bool(snapshots) and [t.state for t in snapshots[-1].trials] == ["complete"] * 2,
                    timeout=60_000)
    assert snapshots[-1].sweep_dir == str(job) and snapshots[-1].best is not None


def _trial_states(storage: Path) -> list[str]:
    """The states of the trials in the sweep's Optuna storage, read back with Optuna."""
    import optuna

    study = optuna.load_study(study_name=None, storage=f"sqlite:///{storage}")
    return [trial.state.name for trial in study.trials]


def test_a_sweeps_trials_are_followed_in_turn_even_those_that_ended_before_they_were_found(tiny_window, qtbot,
                                                                                          tmp_path) -> None:
    # A server or SLURM sweep's trials are found by polling: a short trial has often ended by then.
    trials = []
    for number in range(3):
        folder = tmp_path / f"trial_{number}" / "version_0"
        folder.mkdir(parents=True)
        (folder / "events.jsonl").write_text(
            json.dumps({"type": "run_started", "mode": "fit"}) + "\n"
            + json.dumps({"type": "stage_finished", "stage": "fit", "status": "finished"}) + "\n")
        trials.append(str(folder))
    session = tiny_window.session
    followed: list[str] = []
    session.run_started.connect(lambda _mode: followed.append(session.model.log_dir))

    def next_trial(known: frozenset[str]) -> str | None:
        return next((trial for trial in trials if trial not in known), None)

    run_target_launch.follow_on(tiny_window, None, trials[0])
    run_target_launch._follow_next_trials(tiny_window, None, {trials[0]}, None, next_trial, "the sweep has ended")
    wait_for_console(qtbot, session, "the sweep has ended", timeout_s=30)
    assert followed == trials and session.model.status == RunStatus.FINISHED


def test_a_stop_that_cannot_reach_the_server_leaves_stop_not_kill_on_the_toolbar(tiny_window, qtbot, tmp_path) -> None:
    import socket

    from studio.services.remote.control import DetachedRunControl

    with socket.socket() as probe:  # a port nothing listens on: ssh's connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = tmp_path / "live"
    run.mkdir()
    (run / "events.jsonl").write_text(json.dumps({"type": "run_started", "mode": "fit"}) + "\n")
    control = DetachedRunControl(target=SshTarget(host="127.0.0.1", port=port, user="nobody"), pid=4242,
                                 timeout_s=20)
    run_target_launch.follow_on(tiny_window, None, str(run), control=control)
    session = tiny_window.session
    assert tiny_window.stop_action.isEnabled() and tiny_window.stop_action.text() == "Stop"
    tiny_window.stop_action.trigger()
    assert tiny_window.stop_action.text() == "Kill", "while the stop is on its way, the next click kills"
    qtbot.waitUntil(lambda: tiny_window.stop_action.text() == "Stop", timeout=30_000)
    assert session.model.status == RunStatus.RUNNING and not session.stop_requested
    assert "127.0.0.1" in tiny_window.problems.text(), "the failure is shown, naming the server"
    assert any("Stop asks again" in line for _level, line in session.model.console)
