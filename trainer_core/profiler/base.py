"""1.5 module path ``pytorch_lightning.profiler.base``."""

from trainer_core.profilers.base import *  # noqa: F403
from trainer_core.profilers.base import __all__  # noqa: F401
