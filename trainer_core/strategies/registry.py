"""Strategy names -> strategy objects, and the ``plugins`` the trainer accepts.

The table names each strategy's module and class; a module is imported only when its strategy is asked for, and an
ImportError inside it surfaces as it is (a broken install must not read as "strategy not available").
"""

from __future__ import annotations

import importlib
from typing import Any

import torch

from trainer_core.accelerators.choice import DeviceChoice
from trainer_core.exceptions import MisconfigurationError
from trainer_core.precision.plugins import Precision
from trainer_core.strategies.base import SingleDeviceStrategy, Strategy
from trainer_core.strategies.cluster import ClusterEnvironment

__all__ = ["create_strategy", "register_strategy", "strategy_names"]

# name -> (module, class, constructor keywords)
_REGISTRY: dict[str, tuple[str, str, dict[str, Any]]] = {
    "ddp": ("trainer_core.strategies.distributed", "DDPStrategy", {}),
    "ddp_find_unused_parameters_false": ("trainer_core.strategies.distributed", "DDPStrategy",
                                         {"find_unused_parameters": False}),
    "ddp_spawn": ("trainer_core.strategies.spawn", "DDPSpawnStrategy", {}),
    "ddp_spawn_find_unused_parameters_false": ("trainer_core.strategies.spawn", "DDPSpawnStrategy",
                                               {"find_unused_parameters": False}),
    "dp": ("trainer_core.strategies.distributed", "DataParallelStrategy", {}),
}


def register_strategy(name: str, module: str, class_name: str, **init_kwargs: Any) -> None:
    """Make ``strategy=name`` build ``module.class_name(**init_kwargs)`` (imported when first asked for)."""
    _REGISTRY[name] = (module, class_name, init_kwargs)


def strategy_names() -> list[str]:
    return ["single_device", *sorted(_REGISTRY)]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sort_plugins(plugins: Any) -> tuple[list[Strategy], list[ClusterEnvironment]]:
    """Strategies and cluster environments among ``plugins``; anything the trainer cannot use is an error."""
    strategies, environments = [], []
    for plugin in _as_list(plugins):
        if isinstance(plugin, Strategy):
            strategies.append(plugin)
        elif isinstance(plugin, ClusterEnvironment):
            environments.append(plugin)
        elif not isinstance(plugin, Precision):
            raise MisconfigurationError(
                f"plugins: {type(plugin).__name__} ({plugin!r}) is not a plugin the Trainer can use. It accepts a "
                "strategy (DDPPlugin, DDPSpawnPlugin, DataParallelPlugin), a cluster environment "
                "(LightningEnvironment, SLURMEnvironment, TorchElasticEnvironment, KubeflowEnvironment) or a precision "
                "plugin; remove it")
    if len(environments) > 1:
        raise MisconfigurationError(
            f"plugins holds {len(environments)} cluster environments "
            f"({', '.join(type(e).__name__ for e in environments)}); pass one")
    return strategies, environments


def create_strategy(choice: DeviceChoice, flags: dict[str, Any]) -> Strategy:
    """The strategy for a device choice. A Strategy object (``strategy=`` or among ``plugins``) is used, connected
    to the chosen devices; a cluster environment among ``plugins`` tells it where the ranks come from."""
    strategies, environments = _sort_plugins(flags.get("plugins"))
    given = flags.get("strategy")
    if isinstance(given, Strategy):
        strategies.insert(0, given)
    environment = environments[0] if environments else None
    if strategies:
        strategy = strategies[0]
    elif choice.strategy == "single_device":
        device = torch.device("cuda", choice.device_ids[0]) if choice.device_ids else torch.device("cpu")
        strategy = SingleDeviceStrategy(device)
    elif choice.strategy in _REGISTRY:
        module, class_name, init_kwargs = _REGISTRY[choice.strategy]
        strategy = getattr(importlib.import_module(module), class_name)(**init_kwargs)
    else:
        raise MisconfigurationError(
            f"strategy {choice.strategy!r} is not available; choose one of {strategy_names()}")
    connect = getattr(strategy, "connect", None)
    if connect is not None:
        connect(choice, flags, environment)
    elif environment is not None:
        strategy.cluster_environment = environment  # type: ignore[attr-defined]
    return strategy
