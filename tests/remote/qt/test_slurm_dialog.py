"""Submit to SLURM…: the form writes the script shown for review; submit, queue state and cancel on a real
one-node cluster; a refused job is one line in the dialog."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.qt.slurm_dialog import SlurmDialog
from studio.services.remote.calls import wait_for_calls
from studio.services.remote.slurm import SlurmShell
from tests.remote.cluster import Cluster


def _alive(pid: int) -> bool:
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()  # a zombie has ended
    except OSError:
        return False


def _dialog(qtbot, cluster: Cluster, tmp_path) -> SlurmDialog:
    config = tmp_path / "mlp.yaml"
    config.write_text("trainer: {max_epochs: 1}\n")
    dialog = SlurmDialog(config, shell=SlurmShell(env=(("SLURM_CONF", str(cluster.conf)),)),
                         workdir=str(tmp_path / "job"))
    qtbot.addWidget(dialog)
    return dialog


def test_the_form_writes_the_script_and_bad_lines_block_submit(qtbot, slurm_cluster: Cluster, tmp_path) -> None:
    dialog = _dialog(qtbot, slurm_cluster, tmp_path)
    dialog.tasks.setValue(2)
    dialog.time_limit.setText("00:30:00")
    script = dialog.script.toPlainText().splitlines()
    assert "#SBATCH --ntasks-per-node=2" in script and "#SBATCH --time=00:30:00" in script
    assert script[-1] == ("srun python3 -m trainer_core fit --config mlp.yaml --num_nodes 1 --devices 2 "
                          "--accelerator cpu --strategy ddp")
    dialog.extra.setPlainText("echo hi")
    assert not dialog.submit_button.isEnabled() and "must be #SBATCH options" in dialog.status.text()
    dialog.extra.setPlainText("")
    assert dialog.submit_button.isEnabled()


def test_a_bad_partition_is_shown_and_submit_can_be_tried_again(qtbot, slurm_cluster: Cluster, tmp_path) -> None:
    dialog = _dialog(qtbot, slurm_cluster, tmp_path)
    dialog.partition.setText("nope")
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: "SLURM refused the job" in dialog.status.text(), timeout=30_000)
    assert "Invalid partition" in dialog.status.text() and dialog.submit_button.isEnabled()
    assert wait_for_calls()


def test_submit_shows_the_queue_state_and_cancel_ends_the_job(qtbot, slurm_cluster: Cluster, tmp_path) -> None:
    dialog = _dialog(qtbot, slurm_cluster, tmp_path)
    waits = tmp_path / "python"  # stands in for the cluster's Python: runs until cancelled (the state is tested)
    waits.write_text(f"#!/bin/sh\necho $$ > {tmp_path / 'pid'}\nexec sleep 300\n")
    waits.chmod(0o755)
    dialog.python.setText(str(waits))
    dialog.submit_button.click()
    qtbot.waitUntil(lambda: "RUNNING" in dialog.status.text(), timeout=30_000)
    assert (tmp_path / "job" / "mlp.yaml").exists(), "the config was copied into the job folder"
    with qtbot.waitSignal(dialog.job_ended, timeout=30_000) as ended:
        dialog.cancel_job_button.click()
    assert ended.args[0].state == "CANCELLED" and not dialog.cancel_job_button.isEnabled()
    pid = int((tmp_path / "pid").read_text())
    qtbot.waitUntil(lambda: not _alive(pid), timeout=30_000)  # scancel ended the job's process too
    dialog.close()
    assert wait_for_calls()


def test_the_file_menu_saves_the_config_and_follows_the_jobs_run(qtbot, slurm_cluster: Cluster, tmp_path,
                                                                  monkeypatch) -> None:
    from PySide6.QtGui import QAction

    from studio.app import create_window
    from studio.models.run_state import RunStatus

    monkeypatch.setenv("TRAINING_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("TRAINING_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    window = create_window(None)
    qtbot.addWidget(window)
    try:
        [action] = [a for a in window.findChildren(QAction) if a.text() == "Submit to SLURM…"]
        action.trigger()
        [dialog] = window.findChildren(SlurmDialog)
        assert dialog.config.exists() and dialog.config.parent.parent == tmp_path / "runs" / "slurm"
        assert f"--config {dialog.config.name}" in dialog.script.toPlainText()
        run = tmp_path / "run"
        run.mkdir()
        (run / "events.jsonl").write_text('{"type": "run_started", "mode": "fit"}\n'
                                          '{"type": "stage_finished", "stage": "fit", "status": "finished"}\n')
        with qtbot.waitSignal(window.session.run_ended, timeout=30_000):
            dialog.run_found.emit(str(run))
        assert window.session.model.status == RunStatus.FINISHED
    finally:
        window.session.shutdown()
        window.sweep_controller.shutdown()


@pytest.mark.slow  # a real fit under srun, submitted over ssh: about 20 s on 2 busy cores
def test_submit_to_slurm_over_ssh_from_the_connect_dialog_follows_the_jobs_run(qtbot, slurm_cluster: Cluster, sshd,
                                                                               tmp_path) -> None:
    from studio.models.config import RunConfig
    from studio.qt.remote_dialog import RemoteDialog
    from studio.services.remote.launch import bundle_for_server
    from tests.remote.qt.test_remote_dialog import TINY_MODEL

    script = tmp_path / "tiny.py"
    script.write_text(TINY_MODEL)
    config = RunConfig(model_script=str(script), trainer_flags={"max_epochs": 2}, seed=0)
    remote = RemoteDialog(bundle=lambda: bundle_for_server(config, tmp_path / "local"))
    qtbot.addWidget(remote)
    remote.set_target(sshd.target)
    remote.job_folder.setText(str(tmp_path / "login" / "job"))
    dialog = remote.open_slurm()
    assert dialog is not None and dialog.windowTitle().startswith("Submit to SLURM on root@127.0.0.1")
    # The login node's environment would name the cluster; the test cluster's config travels with the command.
    dialog.shell = SlurmShell(target=sshd.target, env=(("SLURM_CONF", str(slurm_cluster.conf)),))
    ended: list = []
    dialog.job_ended.connect(ended.append)  # before submitting: the job may end in the poll that finds its run
    with qtbot.waitSignal(remote.follow_requested, timeout=180_000) as follow:
        dialog.submit_button.click()
    assert follow.args[0] == sshd.target
    assert follow.args[1].startswith(str(tmp_path / "login" / "job" / "lightning_logs"))
    assert (tmp_path / "login" / "job" / "tiny.py").exists(), "the model script was sent with the config"
    qtbot.waitUntil(lambda: bool(ended), timeout=180_000)
    assert ended[0].state == "COMPLETED"
    assert wait_for_calls()
