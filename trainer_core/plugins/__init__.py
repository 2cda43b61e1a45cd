"""1.x ``pytorch_lightning.plugins``: training-type plugins (strategies), cluster environments, precision plugins.

Pass them through ``Trainer(plugins=[...])`` (or a strategy as ``strategy=``). The 1.5 plugin names are the
strategies of :mod:`trainer_core.strategies` under their 1.5 names.

Examples:
    >>> from trainer_core.plugins import DDPPlugin
    >>> DDPPlugin(find_unused_parameters=False).find_unused_parameters
    False
"""

from trainer_core.plugins import environments as _environments
from trainer_core.plugins.environments import *  # noqa: F403 - the cluster environments, listed once
from trainer_core.precision.plugins import DoublePrecision as DoublePrecisionPlugin
from trainer_core.precision.plugins import Precision as PrecisionPlugin
from trainer_core.strategies.base import SingleDeviceStrategy as SingleDevicePlugin
from trainer_core.strategies.base import Strategy as TrainingTypePlugin
from trainer_core.strategies.distributed import DataParallelStrategy as DataParallelPlugin
from trainer_core.strategies.distributed import DDPStrategy as DDPPlugin
from trainer_core.strategies.spawn import DDPSpawnStrategy as DDPSpawnPlugin

__all__ = [
    "DDPPlugin",
    "DDPSpawnPlugin",
    "DataParallelPlugin",
    "DoublePrecisionPlugin",
    "PrecisionPlugin",
    "SingleDevicePlugin",
    "TrainingTypePlugin",
]
__all__ += _environments.__all__
