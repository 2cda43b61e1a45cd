"""SLURM auto-requeue (1.x ``SLURMEnvironment(auto_requeue=True)``).

SLURM sends SIGUSR1 some time before a job's limit when the script asks for it (``#SBATCH --signal=SIGUSR1@90``).
On that signal the trainer saves ``hpc_ckpt_{N}.ckpt`` in its root folder and global rank 0 puts the job back in the
queue with ``scontrol requeue``. When the requeued job builds its Trainer again, ``fit`` resumes from the newest
such checkpoint (unless a checkpoint to resume from was given).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
from typing import Any

from trainer_core.callback import Callback
from trainer_core.strategies.cluster import SLURMEnvironment

__all__ = ["SLURMRequeue", "latest_hpc_checkpoint", "requeue_callback"]

log = logging.getLogger("trainer_core")
_HPC_NAME = re.compile(r"^hpc_ckpt_(\d+)\.ckpt$")


def latest_hpc_checkpoint(folder: str) -> str | None:
    """The ``hpc_ckpt_{N}.ckpt`` with the largest N in ``folder``, or None."""
    try:
        found = [(int(m.group(1)), name) for name in os.listdir(folder) if (m := _HPC_NAME.match(name))]
    except OSError:
        return None
    return os.path.join(folder, max(found)[1]) if found else None


def requeue_callback(plugins: Any) -> SLURMRequeue | None:
    """The requeue callback when a SLURM environment asks for it: one in ``plugins``, or a detected SLURM job step
    (1.x requeued by default there)."""
    items = plugins if isinstance(plugins, (list, tuple)) else [plugins]
    given = [p for p in items if isinstance(p, SLURMEnvironment)]
    environment = given[0] if given else (SLURMEnvironment() if SLURMEnvironment.detect() else None)
    if environment is None or not environment.auto_requeue:
        return None
    return SLURMRequeue(environment)


class SLURMRequeue(Callback):
    """Saves a checkpoint and requeues the job on SIGUSR1 during ``fit``; resumes from it when the job restarts."""

    def __init__(self, environment: SLURMEnvironment) -> None:
        self.environment = environment
        self._previous: Any = None
        self._installed = False

    def on_init_end(self, trainer: Any) -> None:
        if trainer.resume_from_checkpoint is None:
            found = latest_hpc_checkpoint(trainer.default_root_dir)
            if found is not None:
                log.info("SLURM: resuming from %s, saved before the job was requeued", found)
                trainer.resume_from_checkpoint = found

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        if stage != "fit" or threading.current_thread() is not threading.main_thread():
            return  # Python delivers signals to the main thread only
        self._previous = signal.signal(signal.SIGUSR1, lambda signum, frame: self._on_signal(trainer))
        self._installed = True

    def teardown(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        if self._installed:
            signal.signal(signal.SIGUSR1, self._previous)
            self._installed = False

    def _on_signal(self, trainer: Any) -> None:
        folder = trainer.default_root_dir
        latest = latest_hpc_checkpoint(folder)
        number = int(_HPC_NAME.match(os.path.basename(latest)).group(1)) + 1 if latest else 1  # type: ignore[union-attr]
        path = os.path.join(folder, f"hpc_ckpt_{number}.ckpt")
        trainer.save_checkpoint(path)
        log.info("SLURM: SIGUSR1 received, saved %s", path)
        if trainer.is_global_zero:
            command = self.environment.requeue_command()
            try:
                result = subprocess.run(command, capture_output=True, text=True, check=False)
            except OSError as err:  # no scontrol on this machine
                log.warning("SLURM: could not run `%s`: %s", " ".join(command), err)
                return
            if result.returncode == 0:
                log.info("SLURM: requeued the job (%s)", " ".join(command))
            else:
                log.warning("SLURM: `%s` failed (exit %d): %s", " ".join(command), result.returncode,
                            result.stderr.strip())
