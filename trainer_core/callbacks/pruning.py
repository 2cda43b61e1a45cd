"""``ModelPruning`` (1.x): prune weights with ``torch.nn.utils.prune`` on a schedule.

At the end of each training epoch (or validation epoch) the chosen parameters are pruned by ``amount`` (a number,
or a function of the epoch), optionally reset to their initial values (lottery ticket hypothesis), and at the end
of training the pruning is made permanent (the ``*_orig``/``*_mask`` pairs become plain parameters).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from copy import deepcopy
from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["ModelPruning"]

log = logging.getLogger("trainer_core")

_PRUNING_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "ln_structured": prune.ln_structured,
    "l1_unstructured": prune.l1_unstructured,
    "random_structured": prune.random_structured,
    "random_unstructured": prune.random_unstructured,
}
_METHODS: dict[str, type[prune.BasePruningMethod]] = {
    "ln_structured": prune.LnStructured,
    "l1_unstructured": prune.L1Unstructured,
    "random_structured": prune.RandomStructured,
    "random_unstructured": prune.RandomUnstructured,
}

Schedule = int | float | Callable[[int], int | float]


class ModelPruning(Callback):
    """Prune parameters of the model during training.

    Args:
        pruning_fn: ``"l1_unstructured"``, ``"random_unstructured"``, ``"ln_structured"``, ``"random_structured"``
            or a ``torch.nn.utils.prune`` pruning function/method class.
        parameters_to_prune: ``(module, parameter_name)`` pairs; default: every parameter called one of
            ``parameter_names`` in every submodule.
        parameter_names: the parameter names pruned by default (``("weight", "bias")``).
        use_global_unstructured: prune all parameters together (global magnitude), unstructured methods only.
        amount: the fraction (float) or number (int) of weights to prune, or a function ``epoch -> amount``.
        apply_pruning: prune at all (bool), or a function ``epoch -> bool``.
        make_pruning_permanent: at the end of training (and in saved checkpoints) remove the masks.
        use_lottery_ticket_hypothesis: after pruning, reset the remaining weights to their initial values (bool or
            ``epoch -> bool``).
        resample_parameters: with the lottery ticket reset, draw new initial values instead.
        pruning_dim: the dimension of structured pruning.
        pruning_norm: the norm of ``ln_structured``.
        verbose: 1 logs the sparsity after each pruning, 2 per parameter too.
        prune_on_train_epoch_end: prune at the end of the training epoch (else of the validation epoch).
    """

    PARAMETER_NAMES = ("weight", "bias")

    def __init__(self, pruning_fn: Callable[..., Any] | str, parameters_to_prune: Sequence[tuple[nn.Module, str]]
                 | None = None, parameter_names: Sequence[str] | None = None, use_global_unstructured: bool = True,
                 amount: Schedule = 0.5, apply_pruning: bool | Callable[[int], bool] = True,
                 make_pruning_permanent: bool = True,
                 use_lottery_ticket_hypothesis: bool | Callable[[int], bool] = True,
                 resample_parameters: bool = False, pruning_dim: int | None = None, pruning_norm: int | None = None,
                 verbose: int = 0, prune_on_train_epoch_end: bool = True) -> None:
        self._parameters_to_prune = list(parameters_to_prune or [])
        self._parameter_names = tuple(parameter_names or self.PARAMETER_NAMES)
        self._use_global_unstructured = use_global_unstructured
        self._amount = amount
        self._apply_pruning = apply_pruning
        self._make_pruning_permanent = make_pruning_permanent
        self._use_lottery_ticket_hypothesis = use_lottery_ticket_hypothesis
        self._resample_parameters = resample_parameters
        self._pruning_dim = pruning_dim
        self._pruning_norm = pruning_norm
        self._verbose = verbose
        self._prune_on_train_epoch_end = prune_on_train_epoch_end
        self._original_layers: dict[int, dict[str, Any]] = {}
        if verbose not in (0, 1, 2):
            raise MisconfigurationError(f"ModelPruning(verbose={verbose!r}): give 0, 1 or 2")
        self._method, self._function = self._resolve(pruning_fn)

    def _resolve(self, pruning_fn: Callable[..., Any] | str) -> tuple[Any, Callable[..., Any]]:
        if isinstance(pruning_fn, str):
            name = pruning_fn.lower()
            if name not in _PRUNING_FUNCTIONS:
                raise MisconfigurationError(f"ModelPruning(pruning_fn={pruning_fn!r}): give one of "
                                            f"{', '.join(_PRUNING_FUNCTIONS)} or a torch.nn.utils.prune method")
            structured = name.endswith("_structured")
            if structured and self._pruning_dim is None:
                raise MisconfigurationError(f"ModelPruning(pruning_fn={pruning_fn!r}) needs pruning_dim")
            if name == "ln_structured" and self._pruning_norm is None:
                raise MisconfigurationError("ModelPruning(pruning_fn=\"ln_structured\") needs pruning_norm")
            if structured and self._use_global_unstructured:
                raise MisconfigurationError(f"ModelPruning(pruning_fn={pruning_fn!r}): structured pruning cannot be "
                                            "global; pass use_global_unstructured=False")
            return _METHODS[name], _PRUNING_FUNCTIONS[name]
        if isinstance(pruning_fn, type) and issubclass(pruning_fn, prune.BasePruningMethod):
            method = pruning_fn
            if self._use_global_unstructured and method.PRUNING_TYPE != "unstructured":
                raise MisconfigurationError(f"ModelPruning: {method.__name__} is {method.PRUNING_TYPE}; global "
                                            "pruning needs an unstructured method")
            return method, lambda module, name, amount: method.apply(module, name, amount=amount)
        if self._use_global_unstructured:
            raise MisconfigurationError("ModelPruning: a pruning function cannot prune globally; pass a pruning "
                                        "method class or use_global_unstructured=False")
        return None, pruning_fn

    # --- hooks --------------------------------------------------------------------------------------------------
    def on_before_accelerator_backend_setup(self, trainer: Any, pl_module: Any) -> None:
        if not self._parameters_to_prune:
            self._parameters_to_prune = [
                (module, name) for module in pl_module.modules() for name in self._parameter_names
                if isinstance(getattr(module, name, None), nn.Parameter)]
        if not self._parameters_to_prune:
            raise MisconfigurationError(f"ModelPruning found no parameter named {list(self._parameter_names)} in "
                                        f"{type(pl_module).__name__}; give parameters_to_prune")
        if self._use_lottery_ticket_hypothesis:
            self._original_layers = {
                id(module): {"module": module, "state": deepcopy(module.state_dict())}
                for module, _ in self._parameters_to_prune}

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if self._prune_on_train_epoch_end:
            self._run_pruning(trainer.current_epoch)

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._prune_on_train_epoch_end and not trainer.sanity_checking:
            self._run_pruning(trainer.current_epoch)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self._make_pruning_permanent:
            self.make_pruning_permanent(pl_module)

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> None:
        if self._make_pruning_permanent and "state_dict" in checkpoint:
            checkpoint["state_dict"] = _permanent_state_dict(checkpoint["state_dict"])
        return None

    # --- pruning ------------------------------------------------------------------------------------------------
    def _run_pruning(self, epoch: int) -> None:
        apply = self._apply_pruning(epoch) if callable(self._apply_pruning) else self._apply_pruning
        amount = self._amount(epoch) if callable(self._amount) else self._amount
        if not apply or not amount:
            return
        before = self._sparsity() if self._verbose else None
        self.apply_pruning(amount)
        lottery = self._use_lottery_ticket_hypothesis
        if lottery(epoch) if callable(lottery) else lottery:
            self.apply_lottery_ticket_hypothesis()
        if self._verbose:
            after = self._sparsity()
            log.info("ModelPruning: epoch %d pruned %s -> sparsity %.2f%% (was %.2f%%)", epoch, amount,
                     100 * after, 100 * (before or 0.0))

    def apply_pruning(self, amount: int | float) -> None:
        """Prune every chosen parameter by ``amount`` (together when global)."""
        if self._use_global_unstructured:
            prune.global_unstructured(self._parameters_to_prune, pruning_method=self._method, amount=amount)
            return
        for module, name in self._parameters_to_prune:
            kwargs: dict[str, Any] = {"amount": amount}
            if self._pruning_dim is not None:
                kwargs["dim"] = self._pruning_dim
            if self._pruning_norm is not None:
                kwargs["n"] = self._pruning_norm
            self._function(module, name=name, **kwargs)

    def apply_lottery_ticket_hypothesis(self) -> None:
        """Reset the weights that survive pruning to their initial values (or draw new ones)."""
        for module, name in self._parameters_to_prune:
            original = self._original_layers.get(id(module))
            if original is None:
                continue
            initial = original["state"].get(name, original["state"].get(f"{name}_orig"))
            if initial is None:
                continue
            target = getattr(module, f"{name}_orig", getattr(module, name))
            with torch.no_grad():
                if self._resample_parameters:
                    target.copy_(initial[torch.randperm(initial.numel()).view_as(initial)]
                                 if initial.dim() else initial)
                else:
                    target.copy_(initial)

    @staticmethod
    def make_pruning_permanent(pl_module: nn.Module) -> None:
        """Fold every mask into its parameter and drop the pruning re-parametrisation."""
        for module in pl_module.modules():
            for hook in list(module._forward_pre_hooks.values()):
                if isinstance(hook, prune.BasePruningMethod):
                    prune.remove(module, hook._tensor_name)

    def _sparsity(self) -> float:
        zeros = total = 0
        for module, name in self._parameters_to_prune:
            tensor = getattr(module, name)
            zeros += int((tensor == 0).sum())
            total += tensor.numel()
        return zeros / max(total, 1)


def _permanent_state_dict(state_dict: dict[str, Any]) -> dict[str, Any]:
    """A state dict whose ``X_orig``/``X_mask`` pairs are folded into ``X``."""
    out = {}
    for key, value in state_dict.items():
        if key.endswith("_mask"):
            continue
        if key.endswith("_orig"):
            base = key[: -len("_orig")]
            mask = state_dict.get(f"{base}_mask")
            out[base] = value * mask if mask is not None else value
        else:
            out[key] = value
    return out
