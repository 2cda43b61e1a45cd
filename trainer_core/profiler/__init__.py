"""Lightning 1.5's package name for the profilers: ``from pytorch_lightning.profiler import SimpleProfiler`` and
``from pytorch_lightning.profiler.pytorch import PyTorchProfiler`` (the submodules below re-export
:mod:`trainer_core.profilers`)."""

from trainer_core.profilers import *  # noqa: F403 - the same names under the 1.5 spelling
from trainer_core.profilers import __all__  # noqa: F401
