"""Stop and Kill of runs started elsewhere, against the real sshd and the one-node SLURM cluster."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from studio.models.config import RunConfig
from studio.services.remote.control import STOP_CALLBACK, DetachedRunControl, SlurmRunControl, stoppable
from studio.services.remote.slurm import SlurmShell, job_state, submit
from studio.services.remote.ssh import RemoteError, run_remote
from tests.remote.cluster import Cluster
from tests.remote.sshd import SshServer


def _gone(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()  # a zombie has ended
    except OSError:
        return True


def _wait(condition, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_config_sent_names_the_engines_sigterm_stop_once() -> None:
    config = RunConfig(model_script="m.py", trainer_flags={"callbacks": [{"class_path": "EarlyStopping"}]})
    sent = stoppable(stoppable(config))
    assert sent.trainer_flags["callbacks"] == [{"class_path": "EarlyStopping"}, {"class_path": STOP_CALLBACK}]
    assert config.trainer_flags["callbacks"] == [{"class_path": "EarlyStopping"}], "the forms' config is unchanged"
    assert stoppable(RunConfig(model_script="m.py")).trainer_flags["callbacks"] == [{"class_path": STOP_CALLBACK}]


def test_stop_signals_the_detached_process_and_kill_its_whole_group(sshd: SshServer, tmp_path) -> None:
    def start(name: str) -> tuple[int, int]:
        # A leader with a child, as a detached run with DataLoader workers: the pids of both.
        child_file = tmp_path / name
        out = run_remote(sshd.target, f"{{ setsid nohup sh -c 'sleep 300 & echo $! > {child_file}; wait' "
                                      "> /dev/null 2>&1 < /dev/null & } && echo $!")
        leader = int(out.strip().splitlines()[-1])
        assert _wait(lambda: child_file.is_file() and child_file.read_text().strip() != "")
        return leader, int(child_file.read_text())

    leader, child = start("first")
    DetachedRunControl(target=sshd.target, pid=leader).kill()
    assert _wait(lambda: _gone(leader) and _gone(child)), "Kill ends the process group, children included"
    with pytest.raises(RemoteError, match=rf"pid {leader} on .* is not running any more: there is nothing to stop"):
        DetachedRunControl(target=sshd.target, pid=leader).stop()
    leader, child = start("second")
    DetachedRunControl(target=sshd.target, pid=leader).stop()
    assert _wait(lambda: _gone(leader)), "Stop sends SIGTERM to the run's process (its default: it ends)"
    assert not _gone(child), "Stop asks the run alone: its workers are its own to end"
    run_remote(sshd.target, f"kill {child}")


def test_stop_sends_sigterm_to_the_jobs_steps_and_kill_cancels_it(slurm_cluster: Cluster, tmp_path) -> None:
    shell = SlurmShell(env=(("SLURM_CONF", str(slurm_cluster.conf)),))
    got = tmp_path / "got"
    script = ("#!/bin/bash\n#SBATCH --output=out.txt\n"
              f"srun bash -c 'trap \"echo TERM > {got}; exit 0\" TERM; touch {tmp_path / 'up'}; sleep 300 & wait'\n")
    job = submit(shell, script, workdir=str(tmp_path))
    assert _wait(lambda: (tmp_path / "up").is_file(), 60), "the job's step is running"
    SlurmRunControl(shell=shell, job_id=job).stop()
    assert _wait(got.is_file), "the job's step received SIGTERM"
    assert _wait(lambda: job_state(shell, job).state == "COMPLETED", 60), "the step ended, so the job did"
    job = submit(shell, "#!/bin/bash\n#SBATCH --output=out.txt\nsleep 300\n", workdir=str(tmp_path))
    assert _wait(lambda: job_state(shell, job).state == "RUNNING", 60)
    SlurmRunControl(shell=shell, job_id=job).kill()
    assert _wait(lambda: job_state(shell, job).state == "CANCELLED", 60)
