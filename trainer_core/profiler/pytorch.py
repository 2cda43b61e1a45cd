"""1.5 module path ``pytorch_lightning.profiler.pytorch``."""

from trainer_core.profilers.pytorch import *  # noqa: F403
from trainer_core.profilers.pytorch import __all__  # noqa: F401
