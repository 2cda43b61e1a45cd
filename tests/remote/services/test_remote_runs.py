"""Browse, copy back and launch against a real sshd on 127.0.0.1."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from studio.services.remote.follower import RemoteRunFollower
from studio.services.remote.launch import launch_and_find_run, launch_detached, make_remote_folder
from studio.services.remote.runs import copy_back, list_runs
from studio.services.remote.ssh import RemoteError
from tests.remote.sshd import SshServer

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "resources" / "examples" / "mlp_classifier.py"


def _run(folder: Path, lines: int) -> Path:
    folder.mkdir(parents=True)
    (folder / "events.jsonl").write_text('{"type": "run_started", "mode": "fit"}\n' * lines)
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "last.ckpt").write_bytes(b"weights" * 100)
    return folder


def test_browse_lists_the_run_folders_newest_first(sshd: SshServer, tmp_path) -> None:
    old = _run(tmp_path / "logs" / "mlp" / "version_0", 1)
    new = _run(tmp_path / "logs" / "mlp" / "version_1", 3)
    os.utime(old / "events.jsonl", (1_000_000, 1_000_000))
    (tmp_path / "logs" / "not_a_run").mkdir()
    runs = list_runs(sshd.target, str(tmp_path / "logs"))
    assert [run.path for run in runs] == [str(new), str(old)]
    assert runs[0].size == (new / "events.jsonl").stat().st_size and runs[1].modified == 1_000_000
    assert runs[0].name == "version_1"


def test_browse_names_a_missing_runs_folder(sshd: SshServer, tmp_path) -> None:
    with pytest.raises(RemoteError, match=r"the runs folder .*nowhere does not exist on root@127.0.0.1"):
        list_runs(sshd.target, str(tmp_path / "nowhere"))


def test_copy_back_a_checkpoint_and_a_whole_run_without_overwriting(sshd: SshServer, tmp_path) -> None:
    run = _run(tmp_path / "server" / "version_0", 2)
    local = tmp_path / "local"
    checkpoint = copy_back(sshd.target, str(run / "checkpoints" / "last.ckpt"), local)
    assert checkpoint == local / "last.ckpt" and checkpoint.read_bytes() == b"weights" * 100
    copy = copy_back(sshd.target, str(run), local)
    assert copy == local / "version_0"
    assert (copy / "events.jsonl").read_bytes() == (run / "events.jsonl").read_bytes()
    again = copy_back(sshd.target, str(run), local)
    assert again == local / "version_0 (2)", "an existing copy is never overwritten"
    assert sorted(p.name for p in local.iterdir()) == ["last.ckpt", "version_0", "version_0 (2)"]
    with pytest.raises(RemoteError, match="does not exist on root@127.0.0.1"):
        copy_back(sshd.target, str(run / "missing.ckpt"), local)
    assert sorted(p.name for p in local.iterdir()) == ["last.ckpt", "version_0", "version_0 (2)"]


def test_launch_names_a_missing_python_or_trainer_core(sshd: SshServer, tmp_path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("trainer: {max_epochs: 1}\n")
    with pytest.raises(RemoteError, match=r"no Python at '/opt/none/python' on root@127.0.0.1:\d+: set the remote"):
        launch_detached(replace(sshd.target, python="/opt/none/python"), mode="fit", config=config,
                        workdir=str(tmp_path / "w"))
    with pytest.raises(RemoteError, match="trainer_core is not installed for /usr/bin/python3"):
        launch_detached(replace(sshd.target, python="/usr/bin/python3"), mode="fit", config=config,
                        workdir=str(tmp_path / "w"))


def test_a_launched_run_that_dies_before_its_first_event_is_reported_at_once_with_its_log(sshd: SshServer,
                                                                                          tmp_path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("model: {script: missing_model.py}\ntrainer: {max_epochs: 1}\n")
    with pytest.raises(RemoteError, match="ended before writing any event") as error:
        # Far shorter than the minutes a real run may take to start: the end of the process is noticed.
        launch_and_find_run(sshd.target, mode="fit", config=config, workdir=str(tmp_path / "job"), appear_s=120)
    assert "missing_model.py" in str(error.value) and str(tmp_path / "job" / "run.log") in str(error.value)


def test_a_job_folder_with_a_tilde_is_made_and_named_absolutely(sshd: SshServer) -> None:
    folder = make_remote_folder(sshd.target, "~/.cache/training-studio-test")
    assert folder == os.path.expanduser("~/.cache/training-studio-test") and os.path.isdir(folder)
    os.rmdir(folder)


@pytest.mark.slow  # a real fit on the server: about 20 s on 2 busy cores
def test_a_launched_fit_runs_detached_and_is_browsed_followed_and_copied_back(qtbot, sshd: SshServer,
                                                                              tmp_path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text(f"seed_everything: 0\ntrainer: {{max_epochs: 1, log_every_n_steps: 5}}\n"
                      f"model: {{script: {EXAMPLE}}}\n")
    workdir = tmp_path / "server" / "job"
    launch = launch_detached(sshd.target, mode="fit", config=config, workdir=str(workdir))
    # The ssh session has returned; the run goes on in a session of its own on the server.
    assert launch.workdir == str(workdir) and (workdir / "run.yaml").read_text() == config.read_text()
    assert os.getsid(launch.pid) == launch.pid
    qtbot.waitUntil(lambda: any(workdir.glob("lightning_logs/*/events.jsonl")), timeout=90_000)
    [run] = list_runs(sshd.target, str(workdir))
    remote = RemoteRunFollower(sshd.target, run.path)
    received: list[dict] = []
    remote.follower.events.connect(received.extend)
    with qtbot.waitSignal(remote.follower.ended, timeout=120_000) as ended:
        remote.start()
    assert ended.args[0] == "finished", (workdir / "run.log").read_text()[-2000:]
    assert any(event["type"] == "metrics" for event in received)
    copy = copy_back(sshd.target, run.path, tmp_path / "local")
    assert (copy / "events.jsonl").read_bytes() == (Path(run.path) / "events.jsonl").read_bytes()


def test_a_config_for_the_server_sends_the_files_it_names(tmp_path) -> None:
    from studio.models.config import RunConfig
    from studio.services.remote.launch import bundle_for_server

    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n")
    config = RunConfig(model_script=str(EXAMPLE), data={"path": str(data), "batch_size": 8},
                       trainer_flags={"max_epochs": 1})
    path, files = bundle_for_server(config, tmp_path / "out")
    assert sorted(files) == sorted([EXAMPLE, data])
    text = path.read_text()
    assert "script: mlp_classifier.py" in text and "path: data.csv" in text and str(tmp_path) not in text
