"""SLURM from the studio against a real one-node cluster: the batch script, submit, follow, cancel, bad input."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from studio.services.remote.calls import wait_for_calls
from studio.services.remote.slurm import (
    SlurmError,
    SlurmJobSpec,
    SlurmShell,
    batch_script,
    cancel,
    job_state,
    resources_from_flags,
    submit,
)
from studio.services.remote.slurm_watch import SlurmJobWatcher
from studio.services.run_follower import RunFollower
from tests.remote.cluster import Cluster

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "resources" / "examples" / "mlp_classifier.py"


def _alive(pid: int) -> bool:
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text()  # a zombie has ended
    except OSError:
        return False


def _shell(cluster: Cluster) -> SlurmShell:
    return SlurmShell(env=(("SLURM_CONF", str(cluster.conf)),))


def test_the_batch_script_carries_every_form_value() -> None:
    spec = SlurmJobSpec(config="run.yaml", job_name="mlp", partition="gpu", nodes=2, tasks_per_node=4,
                        gpus_per_node=4, cpus_per_task=8, memory="64G", time_limit="02:00:00", account="proj",
                        python="/opt/env/bin/python", extra_sbatch=("#SBATCH --constraint=a100",))
    script = batch_script(spec)
    for line in ("#SBATCH --job-name=mlp", "#SBATCH --partition=gpu", "#SBATCH --nodes=2",
                 "#SBATCH --ntasks-per-node=4", "#SBATCH --gpus-per-node=4", "#SBATCH --cpus-per-task=8",
                 "#SBATCH --mem=64G", "#SBATCH --time=02:00:00", "#SBATCH --account=proj",
                 "#SBATCH --signal=SIGUSR1@90", "#SBATCH --requeue", "#SBATCH --constraint=a100",
                 "srun /opt/env/bin/python -m trainer_core fit --config run.yaml --num_nodes 2 --devices 4 "
                 "--accelerator gpu --strategy ddp"):
        assert line in script.splitlines()
    cpu = batch_script(SlurmJobSpec(config="run.yaml"))
    assert "--partition" not in cpu and "--gpus-per-node" not in cpu and "--accelerator cpu" in cpu
    assert "--strategy" not in cpu
    with pytest.raises(ValueError, match="must be #SBATCH options"):
        batch_script(SlurmJobSpec(config="run.yaml", extra_sbatch=("rm -rf /",)))


def test_a_sweep_job_runs_trainer_core_sweep_with_its_options() -> None:
    script = batch_script(SlurmJobSpec(config="run.yaml", mode="sweep", gpus_per_node=2,
                                       args=("--sweep", "sweep-request.yaml", "--n_trials", "8")))
    # The trials take their hardware from the run config: the sweep command has no Trainer flags of its own.
    assert script.splitlines()[-1] == ("srun python3 -m trainer_core sweep --config run.yaml --sweep "
                                       "sweep-request.yaml --n_trials 8")
    assert "#SBATCH --gpus-per-node=2" in script


@pytest.mark.parametrize(("flags", "expected"), [
    ({}, (1, 1, 0)),
    ({"num_nodes": 2, "devices": 4, "accelerator": "gpu"}, (2, 4, 4)),
    ({"devices": [0, 1], "accelerator": "cuda"}, (1, 2, 2)),
    ({"devices": "3", "accelerator": "cpu"}, (1, 3, 0)),
    ({"devices": "0,1,", "accelerator": "gpu"}, (1, 2, 2)),
    ({"devices": "auto"}, (1, 1, 0)),
    ({"gpus": 2}, (1, 2, 2)),
])
def test_the_job_size_comes_from_num_nodes_devices_and_the_accelerator(flags, expected) -> None:
    assert resources_from_flags(flags) == expected


def test_a_partition_that_does_not_exist_is_one_clear_error(slurm_cluster: Cluster, tmp_path) -> None:
    script = batch_script(SlurmJobSpec(config="run.yaml", partition="nope"))
    with pytest.raises(SlurmError, match=r"SLURM refused the job: Invalid partition name.*Pick a partition that "
                                         r"`sinfo` lists"):
        submit(_shell(slurm_cluster), script, workdir=str(tmp_path))


def test_cancel_ends_a_running_job(qtbot, slurm_cluster: Cluster, tmp_path) -> None:
    shell = _shell(slurm_cluster)
    job = submit(shell, f"#!/bin/bash\n#SBATCH --output=out.txt\necho $$ > {tmp_path / 'pid'}\nexec sleep 300\n",
                 workdir=str(tmp_path))
    watcher = SlurmJobWatcher(shell, job, runs_root=str(tmp_path), poll_ms=200)
    states: list[str] = []
    watcher.state_changed.connect(lambda state: states.append(state.state))
    watcher.start()
    qtbot.waitUntil(lambda: "RUNNING" in states, timeout=30_000)
    with qtbot.waitSignal(watcher.finished, timeout=30_000) as finished:
        watcher.cancel()
    assert finished.args[0].state == "CANCELLED"
    assert job_state(shell, job).state == "CANCELLED"
    pid = int((tmp_path / "pid").read_text())
    qtbot.waitUntil(lambda: not _alive(pid), timeout=30_000)  # scancel ended the job's process too
    assert wait_for_calls()


class _FollowedJob:
    """A 2-process fit of ``trainer_yaml`` submitted to the cluster, watched, and its run followed once found."""

    def __init__(self, cluster: Cluster, folder: Path, trainer_yaml: str) -> None:
        (folder / "run.yaml").write_text(f"seed_everything: 0\ntrainer: {trainer_yaml}\nmodel: {{script: {EXAMPLE}}}\n")
        self.folder = folder
        self.shell = _shell(cluster)
        spec = SlurmJobSpec(config="run.yaml", tasks_per_node=2, python=sys.executable, time_limit="00:10:00")
        self.job = submit(self.shell, batch_script(spec), workdir=str(folder))
        self.watcher = SlurmJobWatcher(self.shell, self.job, runs_root=str(folder), poll_ms=500)
        self.states: list[str] = []
        self.watcher.state_changed.connect(lambda state: self.states.append(state.state))
        self.followers: list[RunFollower] = []
        self.received: list[dict] = []
        self.watcher.run_found.connect(self._follow)

    def _follow(self, path: str) -> None:
        follower = RunFollower(path, poll_ms=200)
        follower.events.connect(self.received.extend)
        self.followers.append(follower)
        follower.start()

    def output(self) -> str:
        return "".join(path.read_text() for path in self.folder.glob("slurm-*.out"))


@pytest.mark.slow  # a 2-process DDP fit under srun: about 30 s on 2 busy cores
def test_a_two_process_fit_is_submitted_and_followed_to_its_end(qtbot, slurm_cluster: Cluster, tmp_path) -> None:
    run = _FollowedJob(slurm_cluster, tmp_path, "{max_epochs: 1, log_every_n_steps: 5}")
    with qtbot.waitSignal(run.watcher.finished, timeout=240_000) as finished:
        run.watcher.start()
    assert finished.args[0].state == "COMPLETED", run.output()[-3000:]
    assert run.states[-1] == "COMPLETED" and "RUNNING" in run.states
    assert run.followers, "the job's run folder was found"
    qtbot.waitUntil(lambda: run.followers[0].finished, timeout=30_000)
    assert finished.args[0].fields["NumTasks"] == "2", "two processes ran under srun"
    assert any(event["type"] == "metrics" for event in run.received)
    assert wait_for_calls()


@pytest.mark.slow  # a 2-process DDP fit under srun, stopped half-way: about 30 s on 2 busy cores
def test_stop_of_a_two_process_job_ends_it_interrupted_with_its_stop_checkpoint(qtbot, slurm_cluster: Cluster,
                                                                              tmp_path) -> None:
    from studio.services.remote.control import STOP_CALLBACK, SlurmRunControl

    run = _FollowedJob(slurm_cluster, tmp_path,
                       f"{{max_epochs: 500, log_every_n_steps: 1, callbacks: [{{class_path: {STOP_CALLBACK}}}]}}")
    watcher, received = run.watcher, run.received
    watcher.start()
    qtbot.waitUntil(lambda: any(e["type"] == "epoch_finished" for e in received) or watcher.state is not None
                    and watcher.state.final, timeout=240_000)
    assert any(e["type"] == "epoch_finished" for e in received), run.output()[-3000:]
    SlurmRunControl(shell=run.shell, job_id=run.job).stop()
    with qtbot.waitSignal(run.followers[0].ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "interrupted", run.output()[-3000:]
    [saved] = [e for e in received if e["type"] == "checkpoint_saved" and e.get("kind") == "stopped"]
    assert Path(saved["path"]).is_file(), "the stop checkpoint is on disk"
    qtbot.waitUntil(lambda: watcher.state is not None and watcher.state.final, timeout=120_000)
    assert watcher.state.state == "COMPLETED", "both processes left in order: " + run.output()[-3000:]
    assert wait_for_calls()


def _wait(condition, what: str, timeout_s: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)  # polling the cluster with a deadline


@pytest.mark.slow  # two job starts, the requeue waits out the 10 s credential lifetime: about a minute
def test_usr1_checkpoints_requeues_and_resumes_with_no_step_lost_or_repeated(slurm_cluster: Cluster,
                                                                             tmp_path) -> None:
    shell = _shell(slurm_cluster)
    script = "\n".join(["#!/bin/bash", "#SBATCH --job-name=requeue-test", "#SBATCH --output=slurm-%j.out",
                        "#SBATCH --open-mode=append", "#SBATCH --requeue",
                        f"export PYTHONPATH={ROOT} OMP_NUM_THREADS=1",
                        f"srun {sys.executable} {ROOT / 'tests' / 'remote' / 'scripts' / 'requeue_job.py'} "
                        f"{tmp_path} 6", ""])
    job = submit(shell, script, workdir=str(tmp_path))
    output = lambda: "".join(p.read_text() for p in tmp_path.glob("slurm-*.out"))  # noqa: E731
    _wait(lambda: (tmp_path / "training").exists() or job_state(shell, job).final, "training to start", 180)
    assert (tmp_path / "training").exists(), output()[-3000:]
    cancel(shell, job, signal="USR1")
    _wait(lambda: job_state(shell, job).final, "the requeued job to end", 240)
    state = job_state(shell, job)
    assert state.state == "COMPLETED" and state.restarts == 1, (state, output()[-3000:])
    import torch  # only this test reads a checkpoint

    saved_step = torch.load(tmp_path / "hpc_ckpt_1.ckpt", weights_only=False)["global_step"]
    records = [json.loads(line) for line in (tmp_path / "steps.jsonl").read_text().splitlines()]
    first = [r["step"] for r in records if r["restart"] == 0]
    second = [r["step"] for r in records if r["restart"] == 1]
    assert second and second[0] == saved_step, "the requeued job resumed from the checkpoint"
    assert [s for s in first if s < saved_step] + second == list(range(6)), "no step lost or repeated"
    assert f"restart=1 resumed={tmp_path / 'hpc_ckpt_1.ckpt'} step=6" in output()


def test_sbatch_squeue_and_scancel_over_ssh_on_a_login_node(slurm_cluster: Cluster, sshd, tmp_path) -> None:
    # The login node is this machine reached over the test sshd; SLURM_CONF travels as an `env` prefix.
    shell = SlurmShell(target=sshd.target, env=(("SLURM_CONF", str(slurm_cluster.conf)),))
    job = submit(shell, f"#!/bin/bash\n#SBATCH --output=out.txt\necho $$ > {tmp_path / 'pid'}\nexec sleep 300\n",
                 workdir=str(tmp_path))
    _wait(lambda: job_state(shell, job).state == "RUNNING", "the job to run", 30)
    cancel(shell, job)
    _wait(lambda: job_state(shell, job).state == "CANCELLED", "the job to be cancelled", 30)
    _wait(lambda: (tmp_path / "pid").exists() and not _alive(int((tmp_path / "pid").read_text())),
          "the job's process to end", 30)
    with pytest.raises(SlurmError, match="SLURM refused the job: .*Invalid partition"):
        submit(shell, batch_script(SlurmJobSpec(config="run.yaml", partition="nope")), workdir=str(tmp_path))
