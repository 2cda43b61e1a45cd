"""GPU (NVML through nvidia-ml-py) and process-tree (psutil) sampling for the GPU and system view; no torch.

:class:`GpuSampler` initialises NVML once; without a driver it records one human reason and stays unavailable.
Each metric that raises ``NotSupported`` is remembered as n/a and never asked again. :class:`ProcessSampler`
measures CPU % and memory of a process and its children (DataLoader workers), priming ``cpu_percent`` so the
first real sample is meaningful. Both are cheap enough to call once a second (NVML: microseconds per call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psutil

__all__ = ["GpuSample", "GpuSampler", "ProcessSample", "ProcessSampler", "allocator_stats", "logged_stats",
           "system_event", "SYSTEM_SAMPLE", "SYSTEM_FILE"]

SYSTEM_SAMPLE = "system_sample"
"""Event type of one GPU-and-system sample taken by the studio during a run."""
SYSTEM_FILE = "system.jsonl"
"""The file in the run folder that keeps those samples, so a reopened run shows them."""


@dataclass
class GpuSample:
    """One GPU at one moment (None: not supported on this device)."""

    index: int
    name: str
    memory_used: int | None = None
    memory_total: int | None = None
    utilization: float | None = None
    temperature: float | None = None
    power_w: float | None = None
    power_limit_w: float | None = None
    process_memory: dict[int, int] = field(default_factory=dict)


def _reason(error: BaseException) -> str:
    name = type(error).__name__
    if "LibraryNotFound" in name:
        return "No NVIDIA driver found (libnvidia-ml is missing): GPU statistics are unavailable on this machine."
    if "DriverNotLoaded" in name:
        return "The NVIDIA driver is not loaded: GPU statistics are unavailable."
    if "LibRmVersionMismatch" in name:
        return "The NVIDIA driver and library versions differ (driver upgraded?): reboot to see GPU statistics."
    if "NoPermission" in name:
        return "No permission to query the NVIDIA driver: GPU statistics are unavailable."
    return f"GPU statistics are unavailable: {error}"


class GpuSampler:
    """Samples every NVIDIA GPU through NVML.

    Attributes:
        available: True once NVML initialised and found at least one device.
        reason: why it is unavailable (one line for the view).
    """

    def __init__(self, nvml: Any = None) -> None:
        self._nvml = nvml
        self.available = False
        self.reason = ""
        self._handles: list[Any] = []
        self._names: list[str] = []
        self._unsupported: set[tuple[int, str]] = set()
        self._started = False

    def start(self) -> bool:
        """Initialise NVML (once); returns ``available``."""
        if self._started:
            return self.available
        self._started = True
        try:
            if self._nvml is None:
                import pynvml

                self._nvml = pynvml
            self._nvml.nvmlInit()
            count = self._nvml.nvmlDeviceGetCount()
            self._handles = [self._nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
            self._names = [_text(self._nvml.nvmlDeviceGetName(h)) for h in self._handles]
        except ImportError:
            self.reason = "nvidia-ml-py is not installed: GPU statistics are unavailable (pip install nvidia-ml-py)."
            return False
        except Exception as error:  # every NVMLError subclass, whatever the driver state
            self.reason = _reason(error)
            return False
        self.available = bool(self._handles)
        if not self.available:
            self.reason = "The NVIDIA driver reports no GPU on this machine."
        return self.available

    def _call(self, index: int, what: str, fn: Any, *args: Any) -> Any:
        if (index, what) in self._unsupported:
            return None
        try:
            return fn(*args)
        except Exception as error:
            if "NotSupported" in type(error).__name__ or "NotFound" in type(error).__name__:
                self._unsupported.add((index, what))
            return None

    def sample(self) -> list[GpuSample]:
        """One sample of every GPU ([] when unavailable)."""
        if not self.available:
            return []
        nv = self._nvml
        out = []
        for index, handle in enumerate(self._handles):
            gpu = GpuSample(index, self._names[index])
            memory = self._call(index, "memory", nv.nvmlDeviceGetMemoryInfo, handle)
            if memory is not None:
                gpu.memory_used, gpu.memory_total = int(memory.used), int(memory.total)
            rates = self._call(index, "util", nv.nvmlDeviceGetUtilizationRates, handle)
            gpu.utilization = None if rates is None else float(rates.gpu)
            temp = self._call(index, "temp", nv.nvmlDeviceGetTemperature, handle, 0)  # NVML_TEMPERATURE_GPU
            gpu.temperature = None if temp is None else float(temp)
            power = self._call(index, "power", nv.nvmlDeviceGetPowerUsage, handle)
            gpu.power_w = None if power is None else power / 1000.0
            limit = self._call(index, "limit", nv.nvmlDeviceGetEnforcedPowerLimit, handle)
            gpu.power_limit_w = None if limit is None else limit / 1000.0
            procs = self._call(index, "procs", nv.nvmlDeviceGetComputeRunningProcesses, handle) or []
            gpu.process_memory = {int(p.pid): int(p.usedGpuMemory or 0) for p in procs}
            out.append(gpu)
        return out

    def close(self) -> None:
        """Shut NVML down (safe to call twice)."""
        if self.available and self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:  # already shut down or the driver went away
                pass
        self.available = False


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class ProcessSample:
    """The training process tree at one moment (``cpu_percent`` None: first look, nothing measured yet)."""

    pid: int
    processes: int
    cpu_percent: float | None
    rss_bytes: int


class ProcessSampler:
    """CPU % (of one core, so up to 100 x cores) and resident memory of a process and its descendants."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}

    def sample(self, pid: int | None) -> ProcessSample | None:
        """Sample the tree under ``pid``; None when there is no such process."""
        if pid is None:
            self._procs.clear()
            return None
        try:
            root = self._procs.get(pid) or psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            self._procs.clear()
            return None
        cpu = 0.0
        rss = 0
        alive: dict[int, psutil.Process] = {}
        measured = pid in self._procs
        for proc in tree:
            known = self._procs.get(proc.pid, proc)
            try:
                with known.oneshot():
                    value = known.cpu_percent(interval=None)  # 0.0 on the first call: primes the counter
                    rss += known.memory_info().rss
            except psutil.Error:
                continue
            if proc.pid in self._procs:  # a process seen for the first time has no CPU figure yet
                cpu += value
            alive[proc.pid] = known
        self._procs = alive
        # The first look at a process only primes its counter: reporting 0 % there would be a fake sample.
        return ProcessSample(pid, len(alive), cpu if measured else None, rss)


_ALLOCATOR = {
    "allocated": re.compile(r"(^|[/_.])(memory_allocated|allocated_bytes\.all\.current)$"),
    "reserved": re.compile(r"(^|[/_.])(memory_reserved|reserved_bytes\.all\.current)$"),
    "peak": re.compile(r"(^|[/_.])(max_memory_allocated|allocated_bytes\.all\.peak)$"),
}


def allocator_stats(latest: dict[str, float]) -> dict[str, float]:
    """Torch allocator figures the child reported among its metrics (allocated / reserved / peak, bytes)."""
    out: dict[str, float] = {}
    for key, pattern in _ALLOCATOR.items():
        for name, value in latest.items():
            if pattern.search(name):
                out[key] = value
                break
    return out


_LOGGED = {
    # DeviceStatsMonitor on the CPU (or cpu_stats=True): psutil's system-wide figures, {hook}/{stat}.
    "cpu": re.compile(r"(^|[/_.])cpu_percent$"),
    "ram": re.compile(r"(^|[/_.])cpu_vm_percent$"),
    # GPUStatsMonitor: NVML utilisation of the first GPU the run used, 1.x's name.
    "gpu": re.compile(r"^gpu_id: ?0[/.]utilization\.gpu \(%\)$"),
}


def logged_stats(names: list[str]) -> dict[str, str]:
    """The system figures a run logged itself as metrics (by ``DeviceStatsMonitor`` / ``GPUStatsMonitor``).

    A run the studio did not sample (started from the command line, or before the studio kept samples) may still
    carry these in its events file; they are the run's own record, unlike anything sampled here later.

    Args:
        names: the run's metric names, in first-seen order.

    Returns:
        ``cpu`` (system CPU %), ``ram`` (system RAM used %) and ``gpu`` (GPU 0 utilisation %) mapped to the first
        metric name of each that the run logged; absent roles are left out.
    """
    out: dict[str, str] = {}
    for role, pattern in _LOGGED.items():
        found = next((name for name in names if pattern.search(name)), None)
        if found is not None:
            out[role] = found
    return out


def system_event(when: float, gpus: list[GpuSample], proc: ProcessSample | None, ram_percent: float) -> dict[str, Any]:
    """One ``system_sample`` event: the training process tree, system RAM and every GPU at ``when``."""
    own = set()
    if proc is not None:
        try:
            own = {proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))}
        except psutil.Error:
            own = {proc.pid}
    return {
        "type": SYSTEM_SAMPLE, "time": when, "ram_percent": ram_percent,
        "pid": proc.pid if proc is not None else None,
        "processes": proc.processes if proc is not None else 0,
        "cpu_percent": proc.cpu_percent if proc is not None else None,
        "rss_bytes": proc.rss_bytes if proc is not None else None,
        "gpus": [{"index": g.index, "name": g.name, "memory_used": g.memory_used, "memory_total": g.memory_total,
                  "utilization": g.utilization, "temperature": g.temperature, "power_w": g.power_w,
                  "power_limit_w": g.power_limit_w,
                  "own_memory": sum(v for p, v in g.process_memory.items() if p in own) if own else None}
                 for g in gpus],
    }
