"""1.5 module path ``pytorch_lightning.profiler.advanced``."""

from trainer_core.profilers.advanced import *  # noqa: F403
from trainer_core.profilers.advanced import __all__  # noqa: F401
