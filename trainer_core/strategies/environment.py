"""Where the ranks come from: ``torchrun`` (RANK/LOCAL_RANK/WORLD_SIZE) or a SLURM job step (SLURM_PROCID...)."""

from __future__ import annotations

import os
import re
import socket

__all__ = ["cluster_environment", "free_port", "prepare_rendezvous", "slurm_master_address", "slurm_master_port"]


def cluster_environment() -> dict[str, int] | None:
    """Ranks from ``torchrun`` or SLURM ``srun``, or None when the process was not started by a launcher.

    A SLURM allocation entered with an interactive shell (job name ``bash`` or ``interactive``) is not a launcher:
    there the trainer starts its own processes.
    """
    env = os.environ
    if "RANK" in env and "WORLD_SIZE" in env and "LOCAL_RANK" in env:
        return {"global_rank": int(env["RANK"]), "local_rank": int(env["LOCAL_RANK"]),
                "world_size": int(env["WORLD_SIZE"]), "node_rank": int(env.get("GROUP_RANK", env.get("NODE_RANK", 0))),
                "slurm": 0}
    if "SLURM_NTASKS" in env and "SLURM_PROCID" in env and env.get("SLURM_JOB_NAME") not in ("bash", "interactive"):
        return {"global_rank": int(env["SLURM_PROCID"]), "local_rank": int(env.get("SLURM_LOCALID", 0)),
                "world_size": int(env["SLURM_NTASKS"]), "node_rank": int(env.get("SLURM_NODEID", 0)), "slurm": 1}
    return None


def slurm_master_address(nodelist: str) -> str:
    """The first host of a SLURM node list: ``"gpu[03-05,09],cpu1"`` -> ``"gpu03"``; ``"a,b"`` -> ``"a"``."""
    first = re.match(r"([^,\[]+)(\[([^\]]+)\])?", nodelist.strip())
    if first is None:
        return "127.0.0.1"
    prefix, ranges = first.group(1), first.group(3)
    if not ranges:
        return prefix
    start = ranges.split(",")[0].split("-")[0]
    return prefix + start


def slurm_master_port(job_id: str) -> int:
    """A port every task of one job derives alike (the 1.x rule: 15000 + the job id's last four digits)."""
    digits = re.sub(r"\D", "", job_id)[-4:] or "0"
    return 15000 + int(digits)


def prepare_rendezvous() -> None:
    """Fill MASTER_ADDR/MASTER_PORT: torchrun sets them; under SLURM derive them from the job; else localhost."""
    env = os.environ
    if "SLURM_JOB_ID" in env and "SLURM_PROCID" in env and "MASTER_ADDR" not in env:
        env["MASTER_ADDR"] = slurm_master_address(env.get("SLURM_JOB_NODELIST", env.get("SLURM_NODELIST", "")))
        env.setdefault("MASTER_PORT", str(slurm_master_port(env["SLURM_JOB_ID"])))
    env.setdefault("MASTER_ADDR", "127.0.0.1")
    env.setdefault("MASTER_PORT", "29500")


def free_port() -> int:
    """A TCP port that is free on localhost right now (for single-node rendezvous)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
