"""Strategy names -> strategy objects. Distributed strategies register themselves here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from trainer_core.accelerators.connector import DeviceChoice
from trainer_core.exceptions import MisconfigurationError
from trainer_core.strategies.base import SingleDeviceStrategy, Strategy

__all__ = ["create_strategy", "register_strategy"]

StrategyFactory = Callable[[DeviceChoice, dict[str, Any]], Strategy]
_REGISTRY: dict[str, StrategyFactory] = {}


def register_strategy(name: str, factory: StrategyFactory) -> None:
    _REGISTRY[name] = factory


def _single(choice: DeviceChoice, flags: dict[str, Any]) -> Strategy:
    device = torch.device("cuda", choice.device_ids[0]) if choice.device_ids else torch.device("cpu")
    return SingleDeviceStrategy(device)


register_strategy("single_device", _single)


def create_strategy(choice: DeviceChoice, flags: dict[str, Any]) -> Strategy:
    """The strategy for a device choice; a Strategy object passed as ``strategy`` is used as given."""
    given = flags.get("strategy")
    if isinstance(given, Strategy):
        return given
    if choice.strategy not in _REGISTRY:
        _load_distributed()
    factory = _REGISTRY.get(choice.strategy)
    if factory is None:
        raise MisconfigurationError(
            f"strategy {choice.strategy!r} is not available; choose one of {sorted(_REGISTRY)}")
    return factory(choice, flags)


def _load_distributed() -> None:
    try:
        import trainer_core.strategies.distributed  # noqa: F401  (registers dp/ddp)
        import trainer_core.strategies.spawn  # noqa: F401  (registers ddp_spawn)
    except ImportError:
        pass
