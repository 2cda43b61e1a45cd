"""Strategies: how a run maps onto devices and processes (the 1.6+ names; 1.5 called them plugins)."""

from trainer_core.strategies.base import ParallelStrategy, SingleDeviceStrategy, Strategy
from trainer_core.strategies.distributed import DataParallelStrategy, DDPStrategy
from trainer_core.strategies.spawn import DDPSpawnStrategy

__all__ = ["DDPSpawnStrategy", "DDPStrategy", "DataParallelStrategy", "ParallelStrategy", "SingleDeviceStrategy",
           "Strategy"]
