"""``GPUStatsMonitor`` (1.x): log GPU utilisation, memory, fan speed and temperature, read through NVML.

1.x ran ``nvidia-smi`` in a subprocess at each logging step; NVML (the ``nvidia-ml-py`` package) answers the same
questions in microseconds. The metric names are 1.x's (``gpu_id: 0/utilization.gpu (%)`` ...).
"""

from __future__ import annotations

import time
from typing import Any

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["GPUStatsMonitor"]

_MIB = 1024 * 1024


class GPUStatsMonitor(Callback):
    """Log statistics of the GPUs the run uses, at the trainer's logging steps.

    Args:
        memory_utilization: ``memory.used (MB)``, ``memory.free (MB)``, ``utilization.memory (%)``.
        gpu_utilization: ``utilization.gpu (%)``.
        intra_step_time: ``batch_time/intra_step (ms)``, the time of a training batch.
        inter_step_time: ``batch_time/inter_step (ms)``, the time between two batches.
        fan_speed: ``fan.speed (%)``.
        temperature: ``temperature.gpu (°C)``.

    Raises:
        MisconfigurationError: at fit start, without a logger, when the run is not on a GPU, or without NVML
            (the ``nvidia-ml-py`` package and an NVIDIA driver).
    """

    def __init__(self, memory_utilization: bool = True, gpu_utilization: bool = True, intra_step_time: bool = False,
                 inter_step_time: bool = False, fan_speed: bool = False, temperature: bool = False) -> None:
        self.memory_utilization = memory_utilization
        self.gpu_utilization = gpu_utilization
        self.intra_step_time = intra_step_time
        self.inter_step_time = inter_step_time
        self.fan_speed = fan_speed
        self.temperature = temperature
        self._handles: list[tuple[int, Any]] = []
        self._nvml: Any = None
        self._batch_start: float | None = None
        self._batch_end: float | None = None

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        if stage not in (None, "fit"):
            return
        if not trainer.loggers:
            raise MisconfigurationError("GPUStatsMonitor needs a logger to write to; the Trainer has logger=False")
        if trainer.root_device.type != "cuda":
            raise MisconfigurationError(
                "GPUStatsMonitor needs a GPU, but this run uses the CPU. Train on a GPU (accelerator=\"gpu\", "
                "devices=1), or use DeviceStatsMonitor for CPU statistics")
        try:
            import pynvml

            pynvml.nvmlInit()
        except ImportError as err:
            raise MisconfigurationError("GPUStatsMonitor reads the GPUs through NVML: install `nvidia-ml-py` "
                                        "(pip install nvidia-ml-py)") from err
        except Exception as err:  # pynvml's NVMLError subclasses: no driver, no library
            raise MisconfigurationError(f"GPUStatsMonitor: NVML could not start ({type(err).__name__}: {err}); an "
                                        "NVIDIA driver is needed") from err
        self._nvml = pynvml
        indices = trainer._device_choice.device_ids or [trainer.root_device.index or 0]
        self._handles = [(index, pynvml.nvmlDeviceGetHandleByIndex(index)) for index in indices]

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._batch_start = self._batch_end = None

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        if self.intra_step_time:
            self._batch_start = time.perf_counter()
        if self.inter_step_time and self._batch_end is not None and self._due(trainer):
            self._log(trainer, {"batch_time/inter_step (ms)": (time.perf_counter() - self._batch_end) * 1000})

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None:
        if self.inter_step_time:
            self._batch_end = time.perf_counter()
        if not self._due(trainer):
            return
        metrics = self.read_stats()
        if self.intra_step_time and self._batch_start is not None:
            metrics["batch_time/intra_step (ms)"] = (time.perf_counter() - self._batch_start) * 1000
        self._log(trainer, metrics)

    @staticmethod
    def _due(trainer: Any) -> bool:
        return (trainer.global_step + 1) % trainer.log_every_n_steps == 0 or trainer.should_stop

    @staticmethod
    def _log(trainer: Any, metrics: dict[str, float]) -> None:
        for logger in trainer.loggers:
            logger.log_metrics(metrics, step=trainer.global_step)

    def read_stats(self) -> dict[str, float]:
        """The enabled statistics of every GPU of the run, under 1.x's metric names."""
        nvml, out = self._nvml, {}
        for index, handle in self._handles:
            prefix = f"gpu_id: {index}/"
            if self.gpu_utilization or self.memory_utilization:
                rates = nvml.nvmlDeviceGetUtilizationRates(handle)
                if self.gpu_utilization:
                    out[prefix + "utilization.gpu (%)"] = float(rates.gpu)
                if self.memory_utilization:
                    memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                    out[prefix + "memory.used (MB)"] = memory.used / _MIB
                    out[prefix + "memory.free (MB)"] = memory.free / _MIB
                    out[prefix + "utilization.memory (%)"] = float(rates.memory)
            if self.fan_speed:
                try:
                    out[prefix + "fan.speed (%)"] = float(nvml.nvmlDeviceGetFanSpeed(handle))
                except Exception:  # passively cooled data-centre GPUs have no fan: 1.x logged nothing either
                    pass
            if self.temperature:
                out[prefix + "temperature.gpu (°C)"] = float(
                    nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))
        return out
