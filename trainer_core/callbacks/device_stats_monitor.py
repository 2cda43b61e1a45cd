"""1.x module path of ``DeviceStatsMonitor`` (it lives in :mod:`trainer_core.callbacks.device_stats`)."""

from trainer_core.callbacks.device_stats import DeviceStatsMonitor

__all__ = ["DeviceStatsMonitor"]
