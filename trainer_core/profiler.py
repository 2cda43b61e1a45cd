"""Lightning 1.5's module name for the profilers: ``from pytorch_lightning.profiler import SimpleProfiler``."""

from trainer_core.profilers import *  # noqa: F403 - the same names under the 1.5 spelling
from trainer_core.profilers import __all__  # noqa: F401
