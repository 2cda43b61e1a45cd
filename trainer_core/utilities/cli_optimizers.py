"""Optimizers and learning-rate schedulers chosen on the LightningCLI command line (Lightning 1.5).

``parser.add_optimizer_args(torch.optim.Adam)`` in ``add_arguments_to_parser`` gives ``--optimizer.lr`` (and an
``optimizer:`` config section); a tuple of classes gives ``--optimizer=SGD`` / ``class_path:`` + ``init_args:``.
When one optimizer (and at most one scheduler) is registered with ``link_to="AUTOMATIC"``, the model's
``configure_optimizers`` is filled in from them. Otherwise ``link_to="model.some_arg"`` hands the chosen
``{"class_path", "init_args"}`` to the model's constructor, which builds it with :func:`instantiate_class`.
"""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError

__all__ = ["AUTOMATIC", "AutomaticConfigureOptimizers", "ReduceLROnPlateau", "class_path_of", "instantiate_class",
           "optimizer_classes_ok", "scheduler_classes_ok"]

log = logging.getLogger("trainer_core")

AUTOMATIC = "AUTOMATIC"

ClassOrClasses = type | tuple[type, ...]


class ReduceLROnPlateau(torch.optim.lr_scheduler.ReduceLROnPlateau):
    """torch's ``ReduceLROnPlateau`` that also names the metric it watches, so a config can say it (1.5).

    Args:
        optimizer: the optimizer whose learning rates it reduces.
        monitor: the logged metric to watch (``"val_loss"``).
        *args: torch's arguments (``mode``, ``factor``, ``patience``, ...).
        **kwargs: the same by name.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, monitor: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(optimizer, *args, **kwargs)
        self.monitor = monitor


_SCHEDULER_BASES = (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)


def _classes(value: ClassOrClasses) -> tuple[type, ...]:
    return value if isinstance(value, tuple) else (value,)


def optimizer_classes_ok(value: Any) -> bool:
    return all(isinstance(c, type) and issubclass(c, torch.optim.Optimizer) for c in _classes(value))


def scheduler_classes_ok(value: Any) -> bool:
    return all(isinstance(c, type) and issubclass(c, _SCHEDULER_BASES) for c in _classes(value))


def class_path_of(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def instantiate_class(args: Any, init: Mapping[str, Any]) -> Any:
    """Build ``init["class_path"]`` with the positional ``args`` (one value or a tuple) and ``init["init_args"]``.

    Examples:
        >>> sgd = instantiate_class([torch.zeros(1, requires_grad=True)],
        ...                         {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.5}})
        >>> type(sgd).__name__, sgd.param_groups[0]["lr"]
        ('SGD', 0.5)
    """
    module_name, _, class_name = str(init["class_path"]).rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    positional = args if isinstance(args, tuple) else (args,)
    return cls(*positional, **dict(init.get("init_args") or {}))


def as_init_dict(value: Any) -> dict[str, Any] | None:
    """A parsed optimizer/scheduler section as a plain ``{"class_path", "init_args"}`` dict (None stays None)."""
    if value is None:
        return None
    plain = value.as_dict() if hasattr(value, "as_dict") else dict(value)
    return {"class_path": plain["class_path"], "init_args": dict(plain.get("init_args") or {})}


def add_default_choices(parser: Any) -> None:
    """1.5: a CLI whose ``add_arguments_to_parser`` added no optimizer (scheduler) offers any torch optimizer
    (scheduler) as ``--optimizer=Adam --optimizer.lr=0.01`` (``--lr_scheduler=StepLR ...``); left unset, the model's
    own ``configure_optimizers`` is used."""
    options = getattr(parser, "_option_string_actions", {})
    if not parser._optimizers and "--optimizer" not in options:
        parser.add_optimizer_args((torch.optim.Optimizer,))
    if not parser._lr_schedulers and "--lr_scheduler" not in options:
        parser.add_lr_scheduler_args(_SCHEDULER_BASES)


def automatic_keys(register: Mapping[str, tuple[ClassOrClasses, str]]) -> list[str]:
    return [key for key, (_, link_to) in register.items() if link_to == AUTOMATIC]


ConfigureFn = Callable[..., Any]


class AutomaticConfigureOptimizers:
    """The ``configure_optimizers`` LightningCLI gives the model: builds the chosen optimizer (and scheduler) from
    the model's parameters when the trainer asks, so parameters made in ``setup`` and those a callback froze are
    seen as they are then. Set as an instance attribute; it pickles with the model (``ddp_spawn``).

    Args:
        module: the LightningModule.
        optimizer_init: ``{"class_path", "init_args"}`` of the optimizer.
        lr_scheduler_init: the same for the scheduler, or None.
        configure: ``LightningCLI.configure_optimizers(module, optimizer, lr_scheduler)``: what to return.
    """

    def __init__(self, module: Any, optimizer_init: dict[str, Any], lr_scheduler_init: dict[str, Any] | None,
                 configure: ConfigureFn) -> None:
        self.module = module
        self.optimizer_init = optimizer_init
        self.lr_scheduler_init = lr_scheduler_init
        self.configure = configure

    def __call__(self) -> Any:
        optimizer = instantiate_class(self.module.parameters(), self.optimizer_init)
        lr_scheduler = None if self.lr_scheduler_init is None else instantiate_class(optimizer,
                                                                                      self.lr_scheduler_init)
        return self.configure(self.module, optimizer, lr_scheduler)


def configure_optimizers_default(lightning_module: Any, optimizer: torch.optim.Optimizer,
                                 lr_scheduler: Any = None) -> Any:
    """1.5's return value: the optimizer alone, ``[optimizer], [scheduler]``, or a dict naming the metric a
    ``ReduceLROnPlateau`` watches."""
    if lr_scheduler is None:
        return optimizer
    if isinstance(lr_scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
        monitor = getattr(lr_scheduler, "monitor", None)
        if monitor is None:
            raise MisconfigurationError(
                "a torch ReduceLROnPlateau from the command line does not say which metric it watches: use "
                "trainer_core.utilities.cli.ReduceLROnPlateau and set its `monitor` (e.g. --lr_scheduler.monitor "
                "val_loss)")
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": lr_scheduler, "monitor": monitor}}
    return [optimizer], [lr_scheduler]


def attach_automatic_optimizers(model: Any, optimizers: Mapping[str, tuple[ClassOrClasses, str]],
                                lr_schedulers: Mapping[str, tuple[ClassOrClasses, str]], config_init: Any,
                                configure: ConfigureFn, cli_name: str) -> None:
    """Give ``model`` a ``configure_optimizers`` built from the AUTOMATIC optimizer/scheduler sections, if any."""
    optimizer_keys, scheduler_keys = automatic_keys(optimizers), automatic_keys(lr_schedulers)
    if not optimizer_keys:
        return
    if len(optimizer_keys) > 1 or len(scheduler_keys) > 1:
        raise MisconfigurationError(
            f"{cli_name} can fill in configure_optimizers from one optimizer and at most one lr_scheduler added with "
            f"link_to='AUTOMATIC', but found {optimizer_keys + scheduler_keys}. Give the others a link_to (an "
            "argument of the model) and write configure_optimizers yourself")
    optimizer_init = as_init_dict(config_init.get(optimizer_keys[0]))
    if optimizer_init is None:  # a choice among classes that the command line left open
        return
    scheduler_init = as_init_dict(config_init.get(scheduler_keys[0])) if scheduler_keys else None
    from trainer_core.module import LightningModule

    if type(model).configure_optimizers is not LightningModule.configure_optimizers:
        warnings.warn(f"`{type(model).__name__}.configure_optimizers` will be overridden by the optimizer "
                      f"{'and lr_scheduler ' if scheduler_init else ''}given to {cli_name} "
                      f"({optimizer_init['class_path']}), as Lightning 1.5 does", UserWarning, stacklevel=3)
    model.configure_optimizers = AutomaticConfigureOptimizers(model, optimizer_init, scheduler_init, configure)
