"""Turn the hardware flags into one decision: device type, device indices, strategy name, process counts.

Two spellings reach this module: the 1.x flags (``gpus``, ``tpu_cores``, ``num_processes``, a mode in
``accelerator``) and the 2.x flags (``accelerator`` + ``devices`` + ``strategy``). The device count may be given
one way only; giving it both ways is an error rather than a silent choice.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import torch

from trainer_core.accelerators.choice import DeviceChoice
from trainer_core.exceptions import MisconfigurationError
from trainer_core.strategies.base import Strategy
from trainer_core.strategies.environment import cluster_environment

__all__ = ["DeviceChoice", "choose_devices", "parse_gpu_ids"]

log = logging.getLogger(__name__)

_MODES = ("dp", "ddp", "ddp_spawn", "ddp_cpu", "ddp2")


def _cuda_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _describe_available(available: int) -> str:
    if not available:
        return "0 GPUs (no CUDA device is visible to PyTorch)"
    return f"{available} GPU{'s' if available > 1 else ''}: indices {list(range(available))}"


def _normalise_gpu_request(gpus: Any, flag: str) -> int | list[int]:
    """Strings and tuples -> an int count (-1 = all) or a list of indices; anything else is an error."""
    if isinstance(gpus, bool):
        raise MisconfigurationError(f"{flag}={gpus!r}: give a GPU count, -1 for all, or a list of indices")
    if isinstance(gpus, str):
        text = gpus.strip()
        try:
            if "," in text:
                return [int(part) for part in text.split(",") if part.strip()]
            # 1.5 rule: "3" means three GPUs (before 1.5 it meant the GPU with index 3).
            return int(text) if text else 0
        except ValueError:
            raise MisconfigurationError(
                f"{flag}={gpus!r} is not a GPU request: use a count such as \"2\", \"-1\" for all GPUs, or indices "
                "such as \"0,2\"") from None
    if isinstance(gpus, (list, tuple)):
        return [int(i) for i in gpus]
    if isinstance(gpus, int):
        return gpus
    raise MisconfigurationError(f"{flag}={gpus!r}: give a GPU count, -1 for all, or a list of indices")


def parse_gpu_ids(gpus: Any, flag: str = "gpus") -> list[int]:
    """GPU indices for a ``gpus``/``devices`` value, by the 1.5 rules.

    None, 0, "0" and [] select no GPU; N -> [0..N-1]; -1 or "-1" -> every visible GPU; a list -> exactly those;
    "1,3" -> [1, 3]; "3" -> three GPUs.

    Raises:
        MisconfigurationError: An index is not present on this machine, or the value is not a GPU request.
    """
    if gpus is None:
        return []
    request = _normalise_gpu_request(gpus, flag)
    available = _cuda_count()
    if isinstance(request, int):
        if request == 0:
            return []
        if request < -1:
            raise MisconfigurationError(f"{flag}={gpus!r}: a GPU count must be >= 0, or -1 for all GPUs")
        if request == -1:
            if not available:
                raise MisconfigurationError(
                    f"{flag}={gpus!r} asks for all GPUs, but your machine only has {_describe_available(0)}. "
                    "Leave gpus unset (or use accelerator=\"cpu\") to train on the CPU")
            return list(range(available))
        if request > max(available, 8):
            # Checked before building the index list: a typo such as gpus=361958731 must not allocate that list.
            raise MisconfigurationError(
                f"You requested GPUs [0, 1, ..., {request - 1}] ({flag}={gpus!r}), but your machine only has "
                f"{_describe_available(available)}. Ask for fewer GPUs or existing indices, or leave gpus unset "
                "(accelerator=\"cpu\") to train on the CPU")
        ids = list(range(request))
    else:
        ids = request
        if len(set(ids)) != len(ids) or any(i < 0 for i in ids):
            raise MisconfigurationError(f"{flag}={gpus!r}: GPU indices must be distinct and >= 0")
    missing = [i for i in ids if i >= available]
    if missing:
        raise MisconfigurationError(
            f"You requested GPUs {ids} ({flag}={gpus!r}), but your machine only has {_describe_available(available)}. "
            "Ask for fewer GPUs or existing indices, or leave gpus unset (accelerator=\"cpu\") to train on the CPU")
    return ids


def _check_one_spelling(flags: dict[str, Any]) -> None:
    """The device count may come from ``devices`` (2.x) or from gpus/tpu_cores/num_processes (1.x), not both."""
    devices = flags.get("devices")
    if devices is None:
        return
    given = [f"{name}={flags[name]!r}" for name in ("gpus", "tpu_cores") if flags.get(name) is not None]
    if flags.get("num_processes") not in (None, 1):
        given.append(f"num_processes={flags['num_processes']!r}")
    if given:
        raise MisconfigurationError(
            f"devices={devices!r} and {', '.join(given)} both set the number of devices. Use one spelling: "
            "accelerator + devices (2.x), or gpus / tpu_cores / num_processes (1.x)")


def _check_tpu(flags: dict[str, Any], accelerator: Any) -> None:
    if flags.get("tpu_cores") is None and accelerator != "tpu":
        return
    asked = f"tpu_cores={flags['tpu_cores']!r}" if flags.get("tpu_cores") is not None else "accelerator=\"tpu\""
    try:
        import torch_xla  # noqa: F401
    except ImportError as err:
        raise MisconfigurationError(
            f"{asked}: TPU training needs the `torch_xla` package, which is not installed. Install torch_xla on a "
            "TPU host, or train on GPUs (accelerator=\"gpu\") or the CPU") from err
    raise MisconfigurationError(f"{asked}: TPU training is not supported by trainer_core; train on GPUs or the CPU")


def _split_mode(accelerator: Any, strategy: Any) -> tuple[Any, Any]:
    """1.x put the distributed mode into ``accelerator``; move it to ``strategy``."""
    if accelerator not in _MODES:
        return accelerator, strategy
    if strategy is not None:
        raise MisconfigurationError(
            f"accelerator={accelerator!r} is a 1.x distributed mode and strategy={strategy!r} was also given; "
            "pass the mode only as strategy")
    warnings.warn(f"accelerator={accelerator!r} is the 1.x spelling; use strategy={accelerator!r}",
                  DeprecationWarning, stacklevel=4)
    return None, accelerator


def _launched_by_cluster() -> bool:
    return cluster_environment() is not None


def _strategy_request(flags: dict[str, Any]) -> Any:
    """The strategy flag, with a Strategy object (given as ``strategy`` or among ``plugins``) read as its name.

    1.x scripts pass the object both ways (``strategy=DDPPlugin(...)``, ``plugins=[DDPPlugin(...)]``) and often
    together with the mode it implements (``accelerator="ddp", plugins=[DDPPlugin(...)]``); a mode that names a
    different strategy than the object is an error rather than a silent choice.
    """
    plugins = flags.get("plugins")
    objects = [p for p in (plugins if isinstance(plugins, (list, tuple)) else [plugins]) if isinstance(p, Strategy)]
    strategy = flags.get("strategy")
    if isinstance(strategy, Strategy):
        objects.insert(0, strategy)
        strategy = None
    if len(objects) > 1:
        raise MisconfigurationError(
            f"{len(objects)} strategies given ({', '.join(type(o).__name__ for o in objects)} in strategy/plugins); "
            "pass one")
    if not objects:
        return strategy
    mode = strategy if strategy is not None else flags.get("accelerator")
    name = objects[0].name
    if isinstance(mode, str) and mode in _MODES and mode != name and not (mode == "ddp_cpu" and name == "ddp_spawn"):
        raise MisconfigurationError(
            f"the mode {mode!r} and the strategy object {type(objects[0]).__name__} ({name!r}) disagree; pass the "
            "object alone")
    return name


def choose_devices(flags: dict[str, Any]) -> DeviceChoice:
    """Resolve the hardware flags (already validated by the schema) into a :class:`DeviceChoice`.

    Raises:
        MisconfigurationError: Unavailable GPUs, TPUs without torch_xla, ddp2, or a device count given twice.
    """
    if "ddp2" in (flags.get("accelerator"), flags.get("strategy")):
        raise MisconfigurationError(
            "strategy=\"ddp2\" is not possible on current PyTorch (DistributedDataParallel no longer accepts "
            "multi-device modules). Use strategy=\"ddp\" with one process per GPU")
    requested = _strategy_request(flags)
    accelerator = flags.get("accelerator")
    if isinstance(accelerator, str) and accelerator in _MODES and requested != flags.get("strategy"):
        accelerator = None  # a 1.x mode beside a strategy object that implements it
    accelerator, strategy = _split_mode(accelerator, requested)
    devices = flags.get("devices")
    num_nodes = flags.get("num_nodes", 1) or 1
    _check_tpu(flags, accelerator)
    _check_one_spelling(flags)
    gpu_ids, num_processes = _requested_devices(flags, accelerator, devices)
    if strategy == "ddp_cpu":
        if gpu_ids:
            warnings.warn("strategy=\"ddp_cpu\" runs on the CPU; the requested GPUs are ignored", UserWarning,
                          stacklevel=3)
        gpu_ids, strategy = [], "ddp_spawn"

    if gpu_ids:
        procs = len(gpu_ids)
        if strategy in (None, "auto", "single_device") and (procs > 1 or num_nodes > 1):
            strategy = "ddp" if num_nodes > 1 or _launched_by_cluster() else "ddp_spawn"
            if procs > 1 and strategy == "ddp_spawn":
                warnings.warn(f"{procs} GPUs requested without a strategy; using strategy=\"ddp_spawn\"",
                              UserWarning, stacklevel=3)
        elif strategy in (None, "auto"):
            strategy = "single_device"
        if strategy == "dp":
            procs = 1
        return DeviceChoice("gpu", gpu_ids, strategy, procs, num_nodes)

    if strategy == "dp":
        warnings.warn("strategy=\"dp\" needs GPUs; none were requested, so training runs in one CPU process",
                      UserWarning, stacklevel=3)
        strategy = None
    if strategy in (None, "auto", "single_device"):
        if num_nodes > 1 or (num_processes > 1 and _launched_by_cluster()):
            strategy = "ddp"
        elif num_processes > 1:
            strategy = "ddp_spawn"  # the 1.x default for num_processes > 1 without a mode
        else:
            strategy = "single_device"
    return DeviceChoice("cpu", [], strategy, num_processes, num_nodes)


def _requested_devices(flags: dict[str, Any], accelerator: Any, devices: Any) -> tuple[list[int], int]:
    """(GPU indices, CPU processes per node) from accelerator/devices/gpus/num_processes."""
    gpu_ids: list[int] = []
    num_processes = flags.get("num_processes", 1) or 1
    if accelerator in ("gpu", "cuda"):
        if devices is None and flags.get("gpus") is None and not _cuda_count():
            # Named by the flag the user gave: the implied one GPU is no "gpus=1" of theirs.
            raise MisconfigurationError(
                f"accelerator={accelerator!r} needs a GPU, but your machine has {_describe_available(0)}. "
                "Use accelerator=\"cpu\" (or leave accelerator unset) to train on the CPU")
        request = devices if devices is not None else (flags.get("gpus") if flags.get("gpus") is not None else 1)
        gpu_ids = parse_gpu_ids(-1 if request == "auto" else request, "devices" if devices is not None else "gpus")
        if not gpu_ids:
            raise MisconfigurationError(
                f"accelerator={accelerator!r} with devices={devices!r} selects no GPU; give devices >= 1, or use "
                "accelerator=\"cpu\"")
    elif accelerator == "cpu":
        if devices not in (None, "auto"):
            if isinstance(devices, str) and devices.strip().isdigit():
                devices = int(devices)
            if not isinstance(devices, int) or isinstance(devices, bool) or devices < 1:
                raise MisconfigurationError(
                    f"accelerator=\"cpu\" with devices={devices!r}: give the number of CPU processes (int >= 1)")
            num_processes = devices
        if flags.get("gpus") not in (None, 0, "0", []):
            warnings.warn("accelerator=\"cpu\" ignores gpus", UserWarning, stacklevel=4)
    else:  # None or "auto"
        if flags.get("gpus") is not None:
            gpu_ids = parse_gpu_ids(flags["gpus"], "gpus")
        elif devices is not None:
            if _cuda_count() and accelerator == "auto":
                gpu_ids = parse_gpu_ids(-1 if devices == "auto" else devices, "devices")
            elif devices != "auto":
                request = _normalise_gpu_request(devices, "devices")
                num_processes = len(request) if isinstance(request, list) else max(int(request), 1)
        elif accelerator == "auto" and _cuda_count():
            gpu_ids = [0]
    if flags.get("auto_select_gpus") and gpu_ids and _is_count(flags.get("gpus") if devices is None else devices):
        gpu_ids = _pick_free_gpus(len(gpu_ids))
    return gpu_ids, num_processes


def _is_count(value: Any) -> bool:
    """auto_select_gpus applies to counts (2, "2", -1), not to explicit index lists."""
    if isinstance(value, str):
        return "," not in value
    return isinstance(value, int)


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
    raise MisconfigurationError(
        f"auto_select_gpus found {len(free)} usable GPU(s) {free} but {count} were requested; other processes may "
        "be holding them. Ask for fewer GPUs or free some")
