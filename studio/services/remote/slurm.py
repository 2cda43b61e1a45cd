"""SLURM jobs from the studio: the batch script written from the form, ``sbatch``, the queue state, ``scancel``.

Commands run locally when ``sbatch`` is on this computer's PATH, else over SSH on a login node
(:class:`SlurmShell`). Every call blocks with a timeout: run them off the GUI thread
(:mod:`studio.services.remote.calls`). Queue state comes from ``scontrol show job`` (``sacct`` needs the
accounting daemon, which many clusters and every test cluster lack).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.services.remote.ssh import RemoteError, SshTarget, run_remote

__all__ = ["JobState", "SlurmError", "SlurmJobSpec", "SlurmShell", "batch_script", "cancel", "job_state",
           "job_runs", "next_job_run", "resources_from_flags", "submit"]

# Job states after which nothing more happens (a requeued job goes back to PENDING instead).
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED",
                          "BOOT_FAIL", "DEADLINE"})


class SlurmError(RemoteError):
    """SLURM refused or could not answer; the message names what failed and how to fix it."""


@dataclass(frozen=True, kw_only=True)
class SlurmJobSpec:
    """What the studio's SLURM form holds.

    Attributes:
        config: the run's config file name, as the job sees it from ``workdir``.
        mode: the ``trainer-core`` subcommand.
        nodes: machines (the Trainer's ``num_nodes``).
        tasks_per_node: processes per machine (the Trainer's ``devices``; one per GPU).
        gpus_per_node: GPUs per machine (0: a CPU job, ``accelerator cpu``).
        requeue_signal_s: seconds before the time limit when SLURM sends SIGUSR1, so the trainer can save a
            checkpoint and requeue itself (0: no signal).
        extra_sbatch: more ``#SBATCH`` lines, as typed (each must start with ``#SBATCH``).
        args: more options for the command (a sweep's ``--sweep FILE --n_trials N ...``).
    """

    config: str
    mode: str = "fit"
    job_name: str = "trainer-core"
    partition: str | None = None
    nodes: int = 1
    tasks_per_node: int = 1
    gpus_per_node: int = 0
    cpus_per_task: int | None = None
    memory: str | None = None
    time_limit: str | None = None
    account: str | None = None
    python: str = "python3"
    requeue_signal_s: int = 90
    extra_sbatch: tuple[str, ...] = field(default_factory=tuple)
    args: tuple[str, ...] = field(default_factory=tuple)


def resources_from_flags(flags: dict[str, Any]) -> tuple[int, int, int]:
    """``(nodes, processes per node, GPUs per node)`` for a job from the run's Trainer flags.

    ``num_nodes`` gives the nodes; ``devices`` the processes per node (a count, a list of device indices, or "auto"
    and the like, read as 1); an accelerator of ``gpu``/``cuda`` (or ``gpus``, the 1.x flag) asks a GPU per process.
    """
    def count(value: object) -> int:
        if isinstance(value, bool):
            return 1
        if isinstance(value, int):
            return max(value, 1)
        if isinstance(value, (list, tuple)):
            return max(len(value), 1)
        if isinstance(value, str):
            text = value.strip().rstrip(",")
            if text.isdigit():
                return max(int(text), 1)
            if "," in text:
                return len([part for part in text.split(",") if part.strip()])
        return 1

    nodes = count(flags.get("num_nodes", 1))
    gpus_flag = flags.get("gpus")
    tasks = count(flags["devices"]) if flags.get("devices") not in (None, "") else (
        count(gpus_flag) if gpus_flag not in (None, 0, "", "0") else 1)
    on_gpu = str(flags.get("accelerator") or "").lower() in ("gpu", "cuda") or gpus_flag not in (None, 0, "", "0")
    return nodes, tasks, tasks if on_gpu else 0


def batch_script(spec: SlurmJobSpec) -> str:
    """The ``sbatch`` script for ``spec`` (shown to the user for review before it is submitted).

    Raises:
        ValueError: a count below 1, or an extra line that is not an ``#SBATCH`` line.
    """
    if spec.nodes < 1 or spec.tasks_per_node < 1 or spec.gpus_per_node < 0:
        raise ValueError("nodes and tasks per node must be 1 or more, GPUs per node 0 or more.")
    bad = [line for line in spec.extra_sbatch if line.strip() and not line.strip().startswith("#SBATCH ")]
    if bad:
        raise ValueError(f"extra lines must be #SBATCH options (e.g. '#SBATCH --constraint=a100'), not {bad[0]!r}")
    options = [f"--job-name={spec.job_name}", f"--nodes={spec.nodes}", f"--ntasks-per-node={spec.tasks_per_node}"]
    optional = {"--partition": spec.partition, "--cpus-per-task": spec.cpus_per_task, "--mem": spec.memory,
                "--time": spec.time_limit, "--account": spec.account,
                "--gpus-per-node": spec.gpus_per_node or None}
    options += [f"{name}={value}" for name, value in optional.items() if value not in (None, "")]
    if spec.requeue_signal_s:
        # The trainer's SLURM environment catches it: saves a checkpoint and requeues the job, which resumes.
        options += [f"--signal=SIGUSR1@{spec.requeue_signal_s}", "--requeue", "--open-mode=append"]
    options.append("--output=slurm-%j.out")
    command = [spec.python, "-m", "trainer_core", spec.mode, "--config", spec.config]
    if spec.mode != "sweep":  # a sweep's trials take their hardware from the run config
        command += ["--num_nodes", str(spec.nodes), "--devices", str(spec.tasks_per_node),
                    "--accelerator", "gpu" if spec.gpus_per_node else "cpu"]
        if spec.nodes * spec.tasks_per_node > 1:
            command += ["--strategy", "ddp"]
    command += list(spec.args)
    lines = ["#!/bin/bash", *(f"#SBATCH {option}" for option in options),
             *(line.strip() for line in spec.extra_sbatch if line.strip()), "", "srun " + shlex.join(command), ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class SlurmShell:
    """Where SLURM's commands run: this computer (``target`` None) or a login node over SSH.

    Attributes:
        target: the login node (None: locally, ``sbatch`` on PATH).
        env: variables for the commands (e.g. ``SLURM_CONF`` of a test cluster).
    """

    target: SshTarget | None = None
    env: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def local_available() -> bool:
        return shutil.which("sbatch") is not None

    def run(self, argv: list[str], *, input_text: str | None = None, timeout_s: float = 30.0) -> str:
        """Run one SLURM command; its stdout. Raises SlurmError with SLURM's own message on failure."""
        if self.target is not None:
            prefix = [f"{name}={value}" for name, value in self.env]
            command = shlex.join(["env", *prefix, *argv] if prefix else argv)
            try:
                return run_remote(self.target, command, timeout_s=timeout_s, what=argv[0],
                                  input_bytes=None if input_text is None else input_text.encode())
            except RemoteError as exc:
                raise SlurmError(str(exc)) from None
        try:
            done = subprocess.run(argv, input=input_text, capture_output=True, text=True, timeout=timeout_s,
                                  env={**os.environ, **dict(self.env)}, check=False)
        except FileNotFoundError as exc:
            raise SlurmError(f"{argv[0]} is not on this computer's PATH: connect to the cluster's login node over "
                             "SSH instead.") from exc
        except subprocess.TimeoutExpired as exc:
            raise SlurmError(f"{argv[0]} did not answer within {timeout_s:g} s: the SLURM controller may be down "
                             "or overloaded; try again.") from exc
        if done.returncode != 0:
            raise SlurmError(f"{argv[0]} failed: {_slurm_message(done.stderr)}")
        return done.stdout


def _slurm_message(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return re.sub(r"^\w+: error: ", "", lines[-1]) if lines else "no message"


def submit(shell: SlurmShell, script: str, *, workdir: str, timeout_s: float = 60.0) -> str:
    """Submit ``script`` with ``sbatch`` (run in ``workdir``); return the job id.

    Raises:
        SlurmError: sbatch refused it (a partition that does not exist, a bad option, ...), named with the fix.
    """
    try:
        output = shell.run(["sbatch", "--parsable", f"--chdir={workdir}"], input_text=script, timeout_s=timeout_s)
    except SlurmError as exc:
        message = str(exc)
        if "invalid partition" in message.lower():
            raise SlurmError(f"SLURM refused the job: {message.split('failed: ')[-1]}. Pick a partition that "
                             "`sinfo` lists (or leave it empty for the cluster's default).") from None
        raise SlurmError(f"SLURM refused the job: {message.split('failed: ')[-1]}. Check the job settings "
                         "(shown in the batch script).") from None
    return output.strip().split(";")[0]


@dataclass(frozen=True)
class JobState:
    """A job as ``scontrol show job`` reports it.

    Attributes:
        state: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, ... (``UNKNOWN`` once SLURM has forgotten it).
        reason: why it waits or ended (``None`` when there is none).
        restarts: how many times it was requeued.
        fields: every ``Key=Value`` of the report.
    """

    state: str
    reason: str | None
    restarts: int
    fields: dict[str, str]

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def job_state(shell: SlurmShell, job_id: str, *, timeout_s: float = 30.0) -> JobState:
    """The job's state now."""
    try:
        output = shell.run(["scontrol", "-o", "show", "job", job_id], timeout_s=timeout_s)
    except SlurmError as exc:
        if "Invalid job id" in str(exc):
            return JobState("UNKNOWN", "SLURM no longer lists the job", 0, {})
        raise
    fields = dict(re.findall(r"(\w+)=(\S*)", output))
    reason = fields.get("Reason")
    return JobState(fields.get("JobState", "UNKNOWN"), None if reason in (None, "None") else reason,
                    int(fields.get("Restarts", "0") or 0), fields)


def cancel(shell: SlurmShell, job_id: str, *, signal: str | None = None, timeout_s: float = 30.0) -> None:
    """``scancel`` the job, or only send it ``signal`` (e.g. ``USR1``: checkpoint and requeue)."""
    argv = ["scancel", *([f"--signal={signal}"] if signal else []), job_id]
    shell.run(argv, timeout_s=timeout_s)


def find_run(shell: SlurmShell, root: str, *, since: float, timeout_s: float = 30.0) -> str | None:
    """The newest run folder under ``root`` whose events file was written at or after ``since``, if any."""
    runs = job_runs(shell, root, since=since, timeout_s=timeout_s)
    return runs[0] if runs else None


def job_runs(shell: SlurmShell, root: str, *, since: float, timeout_s: float = 30.0) -> list[str]:
    """Every run folder under ``root`` (six levels deep at most) whose events file was written at or after
    ``since``, the newest first."""
    if shell.target is not None:
        from studio.services.remote.runs import list_runs  # noqa: PLC0415 - only over SSH

        return [run.path for run in list_runs(shell.target, root, timeout_s=timeout_s) if run.modified >= since]
    found = []
    for folder, _dirs, files in os.walk(root):
        if "events.jsonl" in files and folder.count(os.sep) - root.rstrip(os.sep).count(os.sep) <= 6:
            modified = os.path.getmtime(os.path.join(folder, "events.jsonl"))
            if modified >= since:
                found.append((modified, folder))
    return [folder for _modified, folder in sorted(found, reverse=True)]


def next_job_run(shell: SlurmShell, job_id: str, root: str, *, since: float, seen: frozenset[str] = frozenset(),
                 appear_s: float = 180.0, poll_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> str | None:
    """The newest run under the job's folder ``root`` not in ``seen`` (a sweep job's next trial), once it has an
    event; None when the job has ended (or left the queue) without a new one (blocking: a worker thread).

    A requeued job is still in the queue, so its next run is waited for.

    Raises:
        SlurmError: nothing new within ``appear_s`` while the job still runs, or SLURM does not answer.
    """
    deadline = time.monotonic() + appear_s

    def new() -> str | None:
        return next((run for run in job_runs(shell, root, since=since) if run not in seen), None)

    while True:
        run = new()
        if run is not None:
            return run
        state = job_state(shell, job_id)
        if state.final or state.state == "UNKNOWN":
            return new()  # it may have written a run and ended between the two looks
        if time.monotonic() >= deadline:
            raise SlurmError(f"SLURM job {job_id} ({state.state}) wrote no new run under {root} within "
                             f"{appear_s:g} s; see its output file (slurm-{job_id}.out) there.")
        sleep(poll_s)
