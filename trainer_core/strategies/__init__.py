"""Strategies: how a run maps onto devices and processes."""

from trainer_core.strategies.base import SingleDeviceStrategy, Strategy

__all__ = ["Strategy", "SingleDeviceStrategy"]
