"""Cluster environments (1.x ``plugins.environments``): where a process learns its ranks and rendezvous address.

Pass one through ``Trainer(plugins=[...])`` to say how the job was started; without one the trainer detects
torchrun and SLURM from the environment. An environment that ``creates_children()`` started every process itself
(torchrun, SLURM ``srun``, Kubeflow); :class:`LightningEnvironment` means the trainer starts them.
"""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

from trainer_core.strategies.environment import free_port, slurm_master_address, slurm_master_port

__all__ = [
    "ClusterEnvironment",
    "KubeflowEnvironment",
    "LightningEnvironment",
    "SLURMEnvironment",
    "TorchElasticEnvironment",
]


class ClusterEnvironment:
    """Base: ranks, world size and the rendezvous address of the current process."""

    def creates_children(self) -> bool:
        """True when the launcher (not the trainer) started every process of the job."""
        raise NotImplementedError

    def master_address(self) -> str:
        raise NotImplementedError

    def master_port(self) -> int:
        raise NotImplementedError

    def world_size(self) -> int:
        raise NotImplementedError

    def set_world_size(self, size: int) -> None:
        """Environments that read the size from the launcher ignore this."""

    def global_rank(self) -> int:
        raise NotImplementedError

    def set_global_rank(self, rank: int) -> None:
        """Environments that read the rank from the launcher ignore this."""

    def local_rank(self) -> int:
        raise NotImplementedError

    def node_rank(self) -> int:
        raise NotImplementedError

    @staticmethod
    def detect() -> bool:
        """Whether the current process runs in this environment."""
        raise NotImplementedError

    def teardown(self) -> None:
        """Clean up what the environment set up (nothing by default)."""

    def ranks(self) -> dict[str, int]:
        """The ranks in the form the DDP strategies read."""
        return {"global_rank": self.global_rank(), "local_rank": self.local_rank(), "world_size": self.world_size(),
                "node_rank": self.node_rank(), "slurm": int(isinstance(self, SLURMEnvironment))}


def _env_int(name: str, default: int = 0) -> int:
    return int(os.environ.get(name, default))


class LightningEnvironment(ClusterEnvironment):
    """The trainer starts the processes itself (``ddp``/``ddp_spawn`` on one machine); MASTER_ADDR/PORT or localhost."""

    def __init__(self) -> None:
        self._world_size = 1
        self._global_rank = 0
        self._port: int | None = None

    def creates_children(self) -> bool:
        return "LOCAL_RANK" in os.environ  # processes started by a previous run of this environment

    def master_address(self) -> str:
        return os.environ.get("MASTER_ADDR", "127.0.0.1")

    def master_port(self) -> int:
        if self._port is None:
            self._port = int(os.environ.get("MASTER_PORT", 0)) or free_port()
        return self._port

    def world_size(self) -> int:
        return self._world_size

    def set_world_size(self, size: int) -> None:
        self._world_size = size

    def global_rank(self) -> int:
        return self._global_rank

    def set_global_rank(self, rank: int) -> None:
        self._global_rank = rank

    def local_rank(self) -> int:
        return _env_int("LOCAL_RANK")

    def node_rank(self) -> int:
        return _env_int("NODE_RANK", _env_int("GROUP_RANK"))

    @staticmethod
    def detect() -> bool:
        return True


class TorchElasticEnvironment(ClusterEnvironment):
    """Processes started by ``torchrun`` / torchelastic (RANK, LOCAL_RANK, WORLD_SIZE, GROUP_RANK)."""

    def creates_children(self) -> bool:
        return True

    def master_address(self) -> str:
        return os.environ.get("MASTER_ADDR", "127.0.0.1")

    def master_port(self) -> int:
        return _env_int("MASTER_PORT", 29500)

    def world_size(self) -> int:
        return _env_int("WORLD_SIZE", 1)

    def global_rank(self) -> int:
        return _env_int("RANK")

    def local_rank(self) -> int:
        return _env_int("LOCAL_RANK")

    def node_rank(self) -> int:
        return _env_int("GROUP_RANK", _env_int("NODE_RANK"))

    @staticmethod
    def detect() -> bool:
        return all(name in os.environ for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "GROUP_RANK"))


class KubeflowEnvironment(ClusterEnvironment):
    """A Kubeflow PyTorchJob: one process per pod; the operator sets MASTER_ADDR/PORT, WORLD_SIZE and RANK."""

    def creates_children(self) -> bool:
        return True

    def master_address(self) -> str:
        return os.environ["MASTER_ADDR"]

    def master_port(self) -> int:
        return int(os.environ["MASTER_PORT"])

    def world_size(self) -> int:
        return int(os.environ["WORLD_SIZE"])

    def global_rank(self) -> int:
        return int(os.environ["RANK"])

    def local_rank(self) -> int:
        return 0

    def node_rank(self) -> int:
        return self.global_rank()

    @staticmethod
    def detect() -> bool:
        required = ("KUBERNETES_PORT", "MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "RANK")
        return all(name in os.environ for name in required) and "LOCAL_RANK" not in os.environ


class SLURMEnvironment(ClusterEnvironment):
    """A SLURM job step started with ``srun`` (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NODEID).

    Args:
        auto_requeue: on SIGUSR1 (sent by SLURM before the time limit, ``#SBATCH --signal=SIGUSR1@90``), save a
            checkpoint and requeue the job with ``scontrol requeue``; the requeued job resumes from it.
    """

    def __init__(self, *, auto_requeue: bool = True) -> None:
        self.auto_requeue = auto_requeue

    def creates_children(self) -> bool:
        return True

    def master_address(self) -> str:
        return os.environ.get("MASTER_ADDR") or slurm_master_address(
            os.environ.get("SLURM_JOB_NODELIST", os.environ.get("SLURM_NODELIST", "127.0.0.1")))

    def master_port(self) -> int:
        if "MASTER_PORT" in os.environ:
            return int(os.environ["MASTER_PORT"])
        return slurm_master_port(os.environ.get("SLURM_JOB_ID", "0"))

    def world_size(self) -> int:
        return _env_int("SLURM_NTASKS", 1)

    def global_rank(self) -> int:
        return _env_int("SLURM_PROCID")

    def local_rank(self) -> int:
        return _env_int("SLURM_LOCALID")

    def node_rank(self) -> int:
        return _env_int("SLURM_NODEID")

    @staticmethod
    def job_id() -> int | None:
        """The job's id (the array job's id for an array task); None outside SLURM or in an interactive shell."""
        job = os.environ.get("SLURM_ARRAY_JOB_ID", os.environ.get("SLURM_JOB_ID"))
        if job is None or os.environ.get("SLURM_JOB_NAME") in ("bash", "interactive"):
            return None
        array_task = os.environ.get("SLURM_ARRAY_TASK_ID")
        return int(f"{job}{array_task}") if "SLURM_ARRAY_JOB_ID" in os.environ and array_task else int(job)

    @staticmethod
    def detect() -> bool:
        return "SLURM_NTASKS" in os.environ and SLURMEnvironment.job_id() is not None

    def requeue_command(self) -> list[str]:
        """The command that puts the job back in the queue."""
        job = os.environ.get("SLURM_ARRAY_JOB_ID", os.environ.get("SLURM_JOB_ID", ""))
        if "SLURM_ARRAY_JOB_ID" in os.environ and os.environ.get("SLURM_ARRAY_TASK_ID"):
            job = f"{job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
        return ["scontrol", "requeue", job]

    def install_requeue_handler(self, save_checkpoint: Any) -> None:
        """On SIGUSR1 call ``save_checkpoint()`` then requeue the job (global rank 0 only requeues)."""
        if not self.auto_requeue:
            return

        def on_signal(signum: int, frame: Any) -> None:
            save_checkpoint()
            if self.global_rank() == 0:
                subprocess.run(self.requeue_command(), check=False)

        signal.signal(signal.SIGUSR1, on_signal)
