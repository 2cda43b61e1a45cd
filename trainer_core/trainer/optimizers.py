"""``configure_optimizers`` in every 1.x return form, scheduler configs, and the optimizer wrapper."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.precision.plugins import StepClosure

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["parse_optimizers", "LightningOptimizer", "step_schedulers", "scheduler_config"]

# The keys that tell the trainer when to step a scheduler: meaningless when the user steps it (manual optimization).
_STEPPING_KEYS = {"interval", "frequency", "reduce_on_plateau", "monitor", "strict"}
_SCHEDULER_KEYS = {"scheduler", "interval", "frequency", "monitor", "strict", "name", "reduce_on_plateau", "opt_idx"}
# The keys an optimizer dict returned by configure_optimizers may hold (1.5 warns about any other).
_OPTIMIZER_DICT_KEYS = {"optimizer", "lr_scheduler", "frequency", "monitor"}


def _is_optimizer(obj: Any) -> bool:
    return isinstance(obj, torch.optim.Optimizer)


def _is_plateau(scheduler: Any) -> bool:
    return isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)


def scheduler_config(item: Any, monitor: str | None = None, automatic: bool = True) -> dict[str, Any]:
    """Normalise a scheduler or scheduler dict to the full config with 1.x defaults.

    Unknown keys are ignored with a warning (1.5). Under manual optimization (``automatic=False``) the user steps
    the schedulers, so a ReduceLROnPlateau needs no ``monitor``.
    """
    if isinstance(item, Mapping):
        if "scheduler" not in item:
            raise MisconfigurationError(
                f"an lr_scheduler dict needs a 'scheduler' key; got keys {sorted(item)}")
        unknown = set(item) - _SCHEDULER_KEYS
        if unknown:
            warnings.warn(f"Found unsupported keys in the lr_scheduler dict: {sorted(unknown)}; they are ignored. "
                          f"Accepted keys: {sorted(_SCHEDULER_KEYS - {'opt_idx', 'reduce_on_plateau'})}",
                          RuntimeWarning, stacklevel=2)
            item = {key: value for key, value in item.items() if key not in unknown}
        stepping = sorted(set(item) & _STEPPING_KEYS)
        if stepping and not automatic:  # 1.5 warns: these keys only tell the trainer how to step
            warnings.warn(f"The lr_scheduler dict has the key(s) {stepping}, which are ignored under manual "
                          "optimization: call lr_scheduler.step() yourself in training_step (or at epoch end).",
                          RuntimeWarning, stacklevel=2)
        config = {"interval": "epoch", "frequency": 1, "monitor": monitor, "strict": True, "name": None, **item}
    else:
        config = {"scheduler": item, "interval": "epoch", "frequency": 1, "monitor": monitor, "strict": True,
                  "name": None}
    if config["interval"] not in ("step", "epoch"):
        raise MisconfigurationError(
            f"lr_scheduler interval={config['interval']!r}; it must be \"step\" or \"epoch\"")
    config["reduce_on_plateau"] = _is_plateau(config["scheduler"])
    if config["reduce_on_plateau"] and not config.get("monitor") and automatic:
        raise MisconfigurationError(
            "ReduceLROnPlateau needs a metric to monitor: return {'optimizer': opt, 'lr_scheduler': "
            "{'scheduler': sched, 'monitor': 'val_loss'}} from configure_optimizers")
    return config


def parse_optimizers(result: Any, automatic: bool = True) -> tuple[list[torch.optim.Optimizer],
                                                                   list[dict[str, Any]], list[int]]:
    """Read what ``configure_optimizers`` returned (``automatic``: the module's automatic_optimization).

    Returns:
        optimizers, scheduler configs (each with ``opt_idx``), and per-optimizer frequencies ([] when none given).
    """
    optimizers: list[torch.optim.Optimizer] = []
    schedulers: list[dict[str, Any]] = []
    frequencies: list[int] = []
    if result is None:
        warnings.warn("configure_optimizers returned None: training runs without an optimizer", UserWarning,
                      stacklevel=2)
        return [], [], []
    if _is_optimizer(result):
        optimizers = [result]
    elif isinstance(result, Mapping):
        optimizers, schedulers = _from_dict(result, 0, automatic)
    elif isinstance(result, (list, tuple)) and len(result) == 2 and isinstance(result[0], (list, tuple)) and all(
            _is_optimizer(o) for o in result[0]):
        optimizers = list(result[0])
        scheds = result[1] if isinstance(result[1], (list, tuple)) else [result[1]]
        schedulers = [scheduler_config(s, automatic=automatic) for s in scheds]
    elif isinstance(result, (list, tuple)) and all(isinstance(r, Mapping) for r in result):
        for idx, item in enumerate(result):
            opts, scheds = _from_dict(item, idx, automatic)
            optimizers += opts
            schedulers += scheds
            if "frequency" in item:
                frequencies.append(int(item["frequency"]))
        if frequencies and len(frequencies) != len(optimizers):
            raise MisconfigurationError("give a 'frequency' for every optimizer dict or for none of them")
    elif isinstance(result, (list, tuple)) and all(_is_optimizer(o) for o in result):
        optimizers = list(result)
    else:
        raise MisconfigurationError(
            "configure_optimizers returned something unknown. Return an optimizer; a list of optimizers; "
            "([optimizers], [schedulers]); a dict {'optimizer': o, 'lr_scheduler': s, 'monitor': m}; or a list of "
            f"such dicts. Got: {type(result).__name__}")
    for config in schedulers:
        if "opt_idx" not in config:
            config["opt_idx"] = _owner(config["scheduler"], optimizers)
        target = getattr(config["scheduler"], "optimizer", None)
        if target is not None and not any(target is opt for opt in optimizers):
            raise MisconfigurationError(
                f"the lr scheduler {type(config['scheduler']).__name__} is attached to an optimizer that "
                "configure_optimizers did not return; build the scheduler on one of the returned optimizers")
    return optimizers, schedulers, frequencies


def _from_dict(item: Mapping[str, Any], idx: int,
               automatic: bool = True) -> tuple[list[torch.optim.Optimizer], list[dict[str, Any]]]:
    if "optimizer" not in item:
        raise MisconfigurationError(f"an optimizer dict needs an 'optimizer' key; got keys {sorted(item)}")
    unknown = set(item) - _OPTIMIZER_DICT_KEYS
    if unknown:  # e.g. "gradient_clip_val": a Trainer flag, so the user's clipping silently would not happen
        warnings.warn(f"Found unsupported keys in the optimizer configuration: {sorted(unknown)}; they are "
                      f"ignored. Accepted keys: {sorted(_OPTIMIZER_DICT_KEYS)} (gradient clipping is the "
                      "Trainer's gradient_clip_val flag)", RuntimeWarning, stacklevel=2)
    optimizer = item["optimizer"]
    schedulers = []
    if item.get("lr_scheduler") is not None:
        config = scheduler_config(item["lr_scheduler"], item.get("monitor"), automatic)
        config["opt_idx"] = idx
        schedulers.append(config)
    return [optimizer], schedulers


def _owner(scheduler: Any, optimizers: Sequence[torch.optim.Optimizer]) -> int:
    target = getattr(scheduler, "optimizer", None)
    for idx, opt in enumerate(optimizers):
        if opt is target:
            return idx
    return 0


class LightningOptimizer:
    """Wraps an optimizer so ``step`` goes through the precision plugin and fires the pre-step hooks.

    Used for manual optimization (``self.optimizers()``) and as the object passed to ``optimizer_step``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, trainer: Trainer, opt_idx: int) -> None:
        self._optimizer = optimizer
        self._trainer = trainer
        self._opt_idx = opt_idx

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self._optimizer

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return self._optimizer.param_groups

    @property
    def state(self) -> Any:
        return self._optimizer.state

    def state_dict(self) -> dict[str, Any]:
        return self._optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._optimizer.load_state_dict(state)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self._optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
        trainer = self._trainer
        if trainer.lightning_module is not None and not trainer.lightning_module.automatic_optimization:
            return trainer._manual_optimizer_step(self._optimizer, self._opt_idx, closure, **kwargs)
        if closure is not None and _evaluates_closure_first(self._optimizer):
            # A built-in optimizer's step(closure) evaluates the closure and then updates: doing the two here lets
            # the precision plugin skip the optimizer's enable_grad block and skip the update when the closure
            # returned no loss (training_step returned None).
            loss = closure()
            return None if loss is None else trainer._precision.optimizer_step(self._optimizer, StepClosure(loss))
        return trainer._precision.optimizer_step(self._optimizer, closure if closure is not None else _noop)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._optimizer, name)

    def __repr__(self) -> str:
        return f"LightningOptimizer({self._optimizer!r})"


def _noop() -> None:
    return None


_CLOSURE_FIRST: dict[type, bool] = {}


def _evaluates_closure_first(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``optimizer.step(closure)`` just calls the closure once before its update (torch.optim's own, bar
    LBFGS, which re-evaluates it). Other optimizers (LBFGS, SAM-style ones, user classes) get the closure itself."""
    kind = type(optimizer)
    known = _CLOSURE_FIRST.get(kind)
    if known is None:
        known = _CLOSURE_FIRST[kind] = kind.__module__.startswith("torch.optim.") and not issubclass(
            kind, torch.optim.LBFGS)
    return known


def step_schedulers(trainer: Trainer, interval: str, counter: int, opt_indices: Sequence[int] | None = None) -> None:
    """Step the schedulers of ``interval`` whose frequency divides ``counter`` (steps or epochs done).

    ``opt_indices``: only the schedulers of these optimizers (those that stepped in this batch, so that with
    ``frequency`` rotation a scheduler steps only on its optimizer's turns); None for all.
    """
    for config in trainer.lr_schedulers:
        if config["interval"] != interval or counter % config["frequency"] != 0:
            continue
        if opt_indices is not None and config["opt_idx"] not in opt_indices:
            continue
        scheduler = config["scheduler"]
        if config["reduce_on_plateau"]:
            monitor = config["monitor"]
            value = trainer.callback_metrics.get(monitor)
            if value is None:
                if config.get("strict", True):
                    available = ", ".join(sorted(trainer.callback_metrics)) or "none"
                    raise MisconfigurationError(
                        f"ReduceLROnPlateau monitors {monitor!r}, which was not logged. Available metrics: "
                        f"{available}. Log it with self.log({monitor!r}, value) or set 'strict': False")
                warnings.warn(f"ReduceLROnPlateau: {monitor!r} not found; scheduler not stepped", UserWarning,
                              stacklevel=2)
                continue
            scheduler.step(float(value))
        else:
            scheduler.step()
