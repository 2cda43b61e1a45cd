"""1.5 module path ``pytorch_lightning.profiler.simple``."""

from trainer_core.profilers.simple import *  # noqa: F403
from trainer_core.profilers.simple import __all__  # noqa: F401
