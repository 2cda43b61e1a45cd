"""Lightning 1.x's availability flags (``from pytorch_lightning.utilities.imports import _TORCHVISION_AVAILABLE``).

Example scripts of the 1.x line branch on these flags to pick a dataset or transform source. Each flag only asks
whether the package can be found; nothing is imported here, so reading a flag costs no import time.
"""

from __future__ import annotations

import importlib.util
import platform
import sys

import torch

__all__ = [
    "_APEX_AVAILABLE", "_DEEPSPEED_AVAILABLE", "_FAIRSCALE_AVAILABLE", "_HOROVOD_AVAILABLE", "_HYDRA_AVAILABLE",
    "_IS_WINDOWS", "_JSONARGPARSE_AVAILABLE", "_KINETO_AVAILABLE", "_NATIVE_AMP_AVAILABLE", "_OMEGACONF_AVAILABLE",
    "_RICH_AVAILABLE", "_TORCHTEXT_AVAILABLE", "_TORCHVISION_AVAILABLE", "_TPU_AVAILABLE", "_IPU_AVAILABLE",
    "_XLA_AVAILABLE", "_module_available",
]


def _module_available(module_path: str) -> bool:
    """Whether ``module_path`` (dotted) can be imported, without importing it (a missing parent counts as no)."""
    try:
        return importlib.util.find_spec(module_path) is not None
    except (ImportError, ValueError):
        return False


_IS_WINDOWS = platform.system() == "Windows"
_IS_INTERACTIVE = hasattr(sys, "ps1")
_NATIVE_AMP_AVAILABLE = hasattr(torch.cuda, "amp") and hasattr(torch.cuda.amp, "autocast")
_KINETO_AVAILABLE = hasattr(torch, "profiler") and torch.profiler.kineto_available()
_APEX_AVAILABLE = _module_available("apex.amp")
_DEEPSPEED_AVAILABLE = _module_available("deepspeed")
_FAIRSCALE_AVAILABLE = _module_available("fairscale.nn")
_HOROVOD_AVAILABLE = _module_available("horovod.torch")
_HYDRA_AVAILABLE = _module_available("hydra")
_JSONARGPARSE_AVAILABLE = _module_available("jsonargparse")
_OMEGACONF_AVAILABLE = _module_available("omegaconf")
_RICH_AVAILABLE = _module_available("rich")
_TORCHTEXT_AVAILABLE = _module_available("torchtext")
_TORCHVISION_AVAILABLE = _module_available("torchvision")
_XLA_AVAILABLE = _module_available("torch_xla")
# Without torch_xla there is no TPU to use; IPUs need Graphcore's poptorch (neither is supported here).
_TPU_AVAILABLE = _XLA_AVAILABLE
_IPU_AVAILABLE = _module_available("poptorch")
