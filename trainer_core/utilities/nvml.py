"""GPU memory readings for ``log_gpu_memory`` through NVML (``pynvml`` from nvidia-ml-py).

Lightning 1.x spawned ``nvidia-smi`` at every logging step; NVML answers the same question in about 8 us per GPU
without a subprocess. NVML is initialised once per process and the device handles are cached. On a machine without
the NVIDIA driver the first call warns once (one line) and every call returns an empty dict.

Metric names follow 1.x: ``"all"`` -> ``gpu_id: {i}/memory.used (MB)`` per GPU, ``"min_max"`` -> ``min_gpu_mem`` and
``max_gpu_mem``. Values are in MiB, the unit ``nvidia-smi --query-gpu=memory.used`` reports (and labels "MB"), so
numbers match what 1.x logged.

Examples:
    >>> metrics = gpu_memory_metrics("min_max")  # {} without a driver
    >>> set(metrics) <= {"min_gpu_mem", "max_gpu_mem"}
    True
"""

from __future__ import annotations

import threading
import warnings
from typing import Any

__all__ = ["gpu_memory_metrics", "gpu_memory_used_mb", "nvml_available", "reset_nvml_cache", "MODES"]

MODES = ("all", "min_max")
_MIB = 1024 * 1024

_lock = threading.Lock()
_state: dict[str, Any] = {"initialized": False, "handles": None, "nvml": None, "warned": False}


def _init() -> list[Any] | None:
    """Initialise NVML once; return the cached device handles, or None when NVML is unavailable."""
    if _state["initialized"]:
        return _state["handles"]
    with _lock:
        if _state["initialized"]:
            return _state["handles"]
        handles: list[Any] | None = None
        reason = ""
        try:
            import pynvml

            pynvml.nvmlInit()
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
            _state["nvml"] = pynvml
        except ImportError as err:
            reason = f"the nvidia-ml-py package is not installed ({err}); install it with `pip install nvidia-ml-py`"
        except Exception as err:  # pynvml raises NVMLError subclasses, e.g. NVMLError_LibraryNotFound
            reason = f"NVML could not be loaded ({type(err).__name__}: {err}), so no NVIDIA driver is available"
        _state["handles"] = handles
        _state["initialized"] = True
        if handles is None and not _state["warned"]:
            _state["warned"] = True
            warnings.warn(f"log_gpu_memory: GPU memory is not logged because {reason}.", UserWarning, stacklevel=3)
        return handles


def nvml_available() -> bool:
    """Whether NVML is usable on this machine (initialises it on first call)."""
    return _init() is not None


def gpu_memory_used_mb() -> list[float]:
    """Memory used on every GPU NVML sees, in MiB, indexed like ``nvidia-smi`` (empty without a driver)."""
    handles = _init()
    if not handles:
        return []
    nvml = _state["nvml"]
    return [nvml.nvmlDeviceGetMemoryInfo(handle).used / _MIB for handle in handles]


def gpu_memory_metrics(mode: str) -> dict[str, float]:
    """The ``log_gpu_memory`` metrics for one logging step.

    Args:
        mode: ``"all"`` (one entry per GPU) or ``"min_max"`` (the smallest and largest use over the GPUs).

    Returns:
        Metric name -> MiB; an empty dict when no NVIDIA driver is present (after a one-time warning).

    Raises:
        ValueError: If ``mode`` is not one of ``"all"``, ``"min_max"``.
    """
    if mode not in MODES:
        raise ValueError(f'log_gpu_memory must be "all" or "min_max", got {mode!r}.')
    used = gpu_memory_used_mb()
    if not used:
        return {}
    if mode == "all":
        return {f"gpu_id: {i}/memory.used (MB)": value for i, value in enumerate(used)}
    return {"min_gpu_mem": min(used), "max_gpu_mem": max(used)}


def reset_nvml_cache() -> None:
    """Forget the cached NVML state (tests, or after the driver appears); the next call initialises again."""
    with _lock:
        _state.update(initialized=False, handles=None, nvml=None, warned=False)
