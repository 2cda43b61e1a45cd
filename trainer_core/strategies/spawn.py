"""``strategy="ddp_spawn"`` (and 1.x ``ddp_cpu``): DDP whose workers are started with ``torch.multiprocessing``.

The launching itself (pickled payload, results sent back by rank 0) lives in :mod:`spawn_launch`, which the
``ddp`` strategy also uses when it runs inside a multiprocessing child.
"""

from __future__ import annotations

from typing import Any

from trainer_core.strategies.distributed import DDPStrategy
from trainer_core.strategies.spawn_launch import file_loaded_modules, spawn_launch

__all__ = ["DDPSpawnStrategy", "file_loaded_modules"]


class DDPSpawnStrategy(DDPStrategy):
    """DDP whose workers are started with torch.multiprocessing (spawn); results return to the caller.

    Takes the keywords of :class:`DDPStrategy` (``find_unused_parameters`` and DistributedDataParallel's own).
    """

    name = "ddp_spawn"

    def launch(self, trainer: Any, stage: str, body: Any) -> Any:
        return spawn_launch(self, trainer, stage, body)
