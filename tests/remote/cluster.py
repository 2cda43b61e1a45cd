"""A one-node SLURM cluster for tests: munged, slurmctld and slurmd as root, every file under one folder.

``python tests/remote/cluster.py start DIR`` starts one and prints the ``SLURM_CONF`` to export;
``python tests/remote/cluster.py stop DIR`` stops it. The tests use :func:`start_cluster` directly.

No cgroups (``proctrack/linuxproc``, ``task/none``), free ports, a short credential lifetime and a 1 s scheduler so
that requeued jobs start again within seconds. ``sacct`` needs slurmdbd, which is not run: jobs are followed with
``squeue`` and ``scontrol show job``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The node is this machine under its own name: a DDP job's rendezvous address is the first host of the job's node
# list, so the name must resolve here.
NODE = socket.gethostname().split(".")[0]
PARTITION = "debug"
DAEMONS = ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd")


def cluster_missing() -> str | None:
    """Why no test cluster can start here (None when it can)."""
    missing = [path for path in DAEMONS if not os.path.exists(path)]
    if missing or shutil.which("sbatch") is None:
        return "slurm-wlm and munge are not installed (./dev.sh test installs them when run as root)"
    if os.geteuid() != 0:
        return "the test SLURM cluster runs its daemons as root; these tests need root (as on CI)"
    return None


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Cluster:
    """A running test cluster."""

    folder: Path
    conf: Path

    @property
    def env(self) -> dict[str, str]:
        """The environment for SLURM's commands (sbatch, squeue, ...)."""
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def stop(self) -> None:
        stop_cluster(self.folder)


def _config(folder: Path, ctld_port: int, slurmd_port: int, cpus: int) -> str:
    return "\n".join([
        # slurmctld only starts on the host its SlurmctldHost names.
        "ClusterName=studiotest", f"SlurmctldHost={NODE}(127.0.0.1)", f"SlurmctldPort={ctld_port}",
        f"SlurmdPort={slurmd_port}", "SlurmUser=root", "SlurmdUser=root", "AuthType=auth/munge",
        f"AuthInfo=socket={folder / 'munge.socket'},cred_expire=10", "CredType=cred/munge",
        f"StateSaveLocation={folder / 'state'}", f"SlurmdSpoolDir={folder / 'spool'}",
        f"SlurmctldPidFile={folder / 'slurmctld.pid'}", f"SlurmdPidFile={folder / 'slurmd.pid'}",
        f"SlurmctldLogFile={folder / 'slurmctld.log'}", f"SlurmdLogFile={folder / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none", "SchedulerType=sched/backfill",
        "SchedulerParameters=sched_interval=1,bf_interval=1", "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core", "ReturnToService=2", "MpiDefault=none", "SlurmdParameters=config_overrides",
        "KillWait=2", "MailProg=/bin/true", "MinJobAge=300", "SlurmdTimeout=30",
        f"NodeName={NODE} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=4000 State=UNKNOWN",
        f"PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP", ""])


def start_cluster(folder: Path, *, cpus: int = 4, timeout_s: float = 30.0) -> Cluster:
    """Start munged, slurmctld and slurmd with every file under ``folder``; wait until the node is idle."""
    folder = Path(folder).resolve()
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    key = folder / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    subprocess.run(["/usr/sbin/munged", f"--key-file={key}", f"--socket={folder / 'munge.socket'}",
                    f"--pid-file={folder / 'munged.pid'}", f"--log-file={folder / 'munged.log'}",
                    f"--seed-file={folder / 'munge.seed'}", "--force"], check=True)
    ctld_port, slurmd_port = _free_ports(2)
    conf = folder / "slurm.conf"
    conf.write_text(_config(folder, ctld_port, slurmd_port, cpus))
    cluster = Cluster(folder=folder, conf=conf)
    subprocess.run(["/usr/sbin/slurmctld", "-f", str(conf), "-i"], env=cluster.env, check=True)
    subprocess.run(["/usr/sbin/slurmd", "-f", str(conf), "-N", NODE], env=cluster.env, check=True)
    deadline = time.monotonic() + timeout_s
    while True:
        state = subprocess.run(["sinfo", "-h", "-n", NODE, "-o", "%t"], env=cluster.env, capture_output=True,
                               text=True, check=False).stdout.strip()
        if state.startswith("idle") or state.startswith("mix"):
            return cluster
        if time.monotonic() > deadline:
            logs = "\n".join((folder / name).read_text()[-800:] for name in ("slurmctld.log", "slurmd.log")
                             if (folder / name).exists())
            stop_cluster(folder)
            raise RuntimeError(f"the test SLURM node did not come up (state {state!r}):\n{logs}")
        time.sleep(0.1)  # polling the daemons' start with a deadline


def stop_cluster(folder: Path) -> None:
    """Stop the daemons started by :func:`start_cluster` in ``folder`` (by their pid files)."""
    for name in ("slurmd.pid", "slurmctld.pid", "munged.pid"):
        pid_file = Path(folder) / name
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)  # waiting for the daemon to exit, with a deadline


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python tests/remote/cluster.py start|stop DIR", file=sys.stderr)
        return 2
    if argv[0] == "stop":
        stop_cluster(Path(argv[1]))
        return 0
    reason = cluster_missing()
    if reason:
        print(f"cannot start a test cluster: {reason}", file=sys.stderr)
        return 1
    cluster = start_cluster(Path(argv[1]))
    print(f"export SLURM_CONF={cluster.conf}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
