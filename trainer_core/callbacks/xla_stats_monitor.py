"""``XLAStatsMonitor`` (1.x): TPU memory and epoch time. TPUs need ``torch_xla``, and trainer_core trains on
CPUs and GPUs only, so constructing it explains that instead of failing later."""

from __future__ import annotations

import importlib.util

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["XLAStatsMonitor"]


class XLAStatsMonitor(Callback):
    """Accepted for 1.x scripts; raises a clear error (the TPU accelerator it monitors is not available).

    Args:
        verbose: 1.x's switch for printing the statistics.

    Raises:
        MisconfigurationError: always: without ``torch_xla`` it names the package; with it, that trainer_core does
            not train on TPUs.
    """

    def __init__(self, verbose: bool = True) -> None:
        self.verbose = verbose
        if importlib.util.find_spec("torch_xla") is None:
            raise MisconfigurationError(
                "XLAStatsMonitor monitors TPUs, which need the `torch_xla` package (not installed). Remove the "
                "callback, or use DeviceStatsMonitor / GPUStatsMonitor on CPUs and GPUs")
        raise MisconfigurationError("XLAStatsMonitor: trainer_core does not train on TPUs; remove the callback, or "
                                    "use DeviceStatsMonitor / GPUStatsMonitor on CPUs and GPUs")
