"""Turn the hardware flags into one decision: device type, device indices, strategy name, process counts."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError

__all__ = ["DeviceChoice", "choose_devices", "parse_gpu_ids"]

log = logging.getLogger(__name__)

_MODES = ("dp", "ddp", "ddp_spawn", "ddp_cpu", "ddp2")


@dataclass
class DeviceChoice:
    accelerator: str  # "cpu" | "gpu"
    device_ids: list[int]  # GPU indices; [] on CPU
    strategy: str  # "single_device" | "dp" | "ddp" | "ddp_spawn"
    num_processes: int  # processes per node
    num_nodes: int

    @property
    def world_size(self) -> int:
        return self.num_processes * self.num_nodes


def _cuda_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def parse_gpu_ids(gpus: Any, flag: str = "gpus") -> list[int]:
    """The 1.5 rules: None/0/"0" -> none; N -> [0..N-1]; -1/"-1" -> all; list -> those; "1,3" -> [1, 3]."""
    available = _cuda_count()
    if gpus is None:
        return []
    if isinstance(gpus, str):
        text = gpus.strip()
        if text == "-1":
            gpus = -1
        elif "," in text:
            gpus = [int(p) for p in text.split(",") if p.strip()]
        else:
            gpus = int(text)
    if isinstance(gpus, int):
        if gpus == 0:
            return []
        ids = list(range(available)) if gpus == -1 else list(range(gpus))
        if gpus == -1 and not ids:
            raise MisconfigurationError(f"{flag}=-1 asks for all GPUs, but this machine has no CUDA GPU")
    else:
        ids = list(gpus)
    missing = [i for i in ids if i >= available]
    if missing or (not ids and gpus not in (0, None)):
        have = f"{available} GPU(s): {list(range(available))}" if available else "no CUDA GPU"
        raise MisconfigurationError(
            f"You requested GPUs {ids} ({flag}={gpus!r}), but your machine only has {have}. "
            "Use gpus=None (or accelerator=\"cpu\") to train on the CPU"
        )
    return ids


def choose_devices(flags: dict[str, Any]) -> DeviceChoice:
    """Resolve the hardware flags (already validated by the schema) into a :class:`DeviceChoice`."""
    accelerator = flags.get("accelerator")
    strategy = flags.get("strategy")
    devices = flags.get("devices")
    num_nodes = flags.get("num_nodes", 1)
    if flags.get("tpu_cores") is not None or accelerator == "tpu":
        try:
            import torch_xla  # noqa: F401
        except ImportError as err:
            raise MisconfigurationError(
                "TPU training (tpu_cores / accelerator=\"tpu\") needs the `torch_xla` package, which is not "
                "installed. Install torch_xla on a TPU host, or train on GPU/CPU"
            ) from err
        raise MisconfigurationError("TPU training is not supported by trainer_core yet")
    if accelerator in _MODES:  # 1.x: the distributed mode went into `accelerator`
        if strategy is not None:
            raise MisconfigurationError(
                f"accelerator={accelerator!r} is a 1.x distributed mode and strategy={strategy!r} was also given; "
                "pass the mode only as strategy"
            )
        warnings.warn(f"accelerator={accelerator!r} is the 1.x spelling; use strategy={accelerator!r}",
                      DeprecationWarning, stacklevel=3)
        strategy, accelerator = accelerator, None
    if strategy == "ddp2":
        raise MisconfigurationError(
            "strategy=\"ddp2\" is not possible on current PyTorch (DistributedDataParallel no longer accepts "
            "multi-device modules). Use strategy=\"ddp\" with one process per GPU"
        )
    if strategy == "ddp_find_unused_parameters_false":
        strategy = "ddp"

    gpu_ids: list[int] = []
    num_processes = flags.get("num_processes", 1) or 1
    if accelerator in ("gpu", "cuda"):
        count = devices if devices is not None else 1
        if count == "auto":
            count = -1
        gpu_ids = parse_gpu_ids(count, "devices")
        if not gpu_ids:
            raise MisconfigurationError(
                f"accelerator={accelerator!r} with devices={devices!r} selects no GPU; give devices >= 1")
    elif accelerator == "cpu":
        if devices not in (None, "auto"):
            if not isinstance(devices, int) or devices < 1:
                raise MisconfigurationError(
                    f"accelerator=\"cpu\" with devices={devices!r}: give the number of CPU processes (int >= 1)")
            num_processes = devices
        if flags.get("gpus") not in (None, 0, "0", []):
            warnings.warn("accelerator=\"cpu\" ignores gpus", UserWarning, stacklevel=3)
    else:  # None or "auto"
        if flags.get("gpus") is not None:
            gpu_ids = parse_gpu_ids(flags["gpus"], "gpus")
        elif devices is not None:
            if accelerator == "auto" and _cuda_count():
                gpu_ids = parse_gpu_ids(-1 if devices == "auto" else devices, "devices")
            elif devices != "auto":
                num_processes = int(devices) if not isinstance(devices, list) else len(devices)
        elif accelerator == "auto" and _cuda_count():
            gpu_ids = [0]
        if flags.get("auto_select_gpus") and gpu_ids:
            gpu_ids = _pick_free_gpus(len(gpu_ids))

    if strategy == "ddp_cpu":
        if gpu_ids:
            warnings.warn("strategy=\"ddp_cpu\" runs on the CPU; the requested GPUs are ignored", UserWarning,
                          stacklevel=3)
        gpu_ids, strategy = [], "ddp_spawn"

    if gpu_ids:
        procs = len(gpu_ids)
        if strategy is None or strategy == "auto":
            strategy = "ddp_spawn" if procs > 1 else "single_device"
            if procs > 1:
                warnings.warn(f"{procs} GPUs requested without a strategy; using strategy=\"ddp_spawn\"",
                              UserWarning, stacklevel=3)
        if strategy == "dp":
            procs = 1
        return DeviceChoice("gpu", gpu_ids, strategy, procs, num_nodes)

    if strategy == "dp":
        warnings.warn("strategy=\"dp\" needs GPUs; none were requested, so training runs in one CPU process",
                      UserWarning, stacklevel=3)
        strategy = None
    if strategy in (None, "auto", "single_device"):
        strategy = "ddp" if (num_processes > 1 or num_nodes > 1) else "single_device"
    return DeviceChoice("cpu", [], strategy, num_processes, num_nodes)


def _pick_free_gpus(count: int) -> list[int]:
    """Indices of GPUs where a small allocation succeeds (the 1.x auto_select_gpus rule)."""
    free = []
    for idx in range(_cuda_count()):
        try:
            torch.ones(1, device=f"cuda:{idx}")
            free.append(idx)
        except RuntimeError:
            continue
        if len(free) == count:
            return free
    raise MisconfigurationError(f"auto_select_gpus found {len(free)} usable GPU(s) but {count} were requested")
