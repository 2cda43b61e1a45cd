"""``BaseFinetuning`` and ``BackboneFinetuning`` (1.x): freeze modules before training, unfreeze them at an epoch
and add their parameters to the optimizer as a new param group."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Generator, Iterable
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["BackboneFinetuning", "BaseFinetuning", "multiplicative"]

log = logging.getLogger("trainer_core")

Modules = nn.Module | Iterable[nn.Module | Iterable[Any]]


def multiplicative(epoch: int) -> float:
    """The default backbone learning-rate factor per epoch after unfreezing (1.x: 2)."""
    return 2.0


class BaseFinetuning(Callback):
    """Subclass and implement ``freeze_before_training`` and ``finetune_function``.

    ``freeze_before_training(pl_module)`` runs before the optimizers are configured; ``finetune_function(pl_module,
    epoch, optimizer, opt_idx)`` at the start of every training epoch, once per optimizer, typically calling
    :meth:`unfreeze_and_add_param_group` at the chosen epoch.

    A checkpoint keeps each optimizer's param groups by parameter name; on resume ``on_fit_start`` adds the groups
    the saved run had added (their parameters trainable again) before the trainer loads the optimizer states.
    """

    def __init__(self) -> None:
        # Per optimizer, its param groups as saved: hyper-parameters and the *names* of the parameters, in order.
        self._internal_optimizer_metadata: dict[int, list[dict[str, Any]]] = {}
        self._restarting = False

    # --- helpers (static, as in 1.x) ----------------------------------------------------------------------------
    @staticmethod
    def flatten_modules(modules: Modules) -> list[nn.Module]:
        """The leaf modules (and modules holding parameters of their own) of ``modules``."""
        if isinstance(modules, nn.ModuleDict):
            modules = modules.values()
        if isinstance(modules, Iterable) and not isinstance(modules, nn.Module):
            flat: list[nn.Module] = []
            for module in modules:
                flat.extend(BaseFinetuning.flatten_modules(module))
            return flat
        assert isinstance(modules, nn.Module)
        return [m for m in modules.modules() if not list(m.children()) or m._parameters]

    @staticmethod
    def filter_params(modules: Modules, train_bn: bool = True,
                      requires_grad: bool = True) -> Generator[torch.nn.Parameter, None, None]:
        """Parameters of ``modules`` whose ``requires_grad`` equals ``requires_grad`` (BatchNorm's only with
        ``train_bn``)."""
        for module in BaseFinetuning.flatten_modules(modules):
            if isinstance(module, _BatchNorm) and not train_bn:
                continue
            for param in module.parameters(recurse=False):
                if param.requires_grad == requires_grad:
                    yield param

    @staticmethod
    def make_trainable(modules: Modules) -> None:
        for module in BaseFinetuning.flatten_modules(modules):
            for param in module.parameters(recurse=False):
                param.requires_grad = True

    @staticmethod
    def freeze_module(module: nn.Module) -> None:
        """No gradients for the module's own parameters; a BatchNorm also stops updating its running statistics."""
        if isinstance(module, _BatchNorm):
            module.track_running_stats = False
        for param in module.parameters(recurse=False):
            param.requires_grad = False

    @staticmethod
    def freeze(modules: Modules, train_bn: bool = True) -> None:
        """Freeze ``modules``; BatchNorm layers stay trainable when ``train_bn``."""
        for module in BaseFinetuning.flatten_modules(modules):
            if isinstance(module, _BatchNorm) and train_bn:
                BaseFinetuning.make_trainable(module)
            else:
                BaseFinetuning.freeze_module(module)

    @staticmethod
    def filter_on_optimizer(optimizer: torch.optim.Optimizer,
                            params: Iterable[torch.nn.Parameter]) -> list[torch.nn.Parameter]:
        """``params`` the optimizer does not hold yet (a parameter may belong to one param group only).

        As in 1.5, skipping any is warned about: it usually means ``configure_optimizers`` gave the optimizer every
        parameter, frozen ones included, so the unfrozen modules train at the first group's learning rate.
        """
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        params = list(params)
        fresh = [p for p in params if id(p) not in held]
        if len(fresh) < len(params):
            warnings.warn(
                f"unfreeze_and_add_param_group: {len(params) - len(fresh)} parameter(s) are already in the optimizer "
                f"and are skipped (a parameter can be in one param group only), so they keep that group's learning "
                f"rate. Did you init your optimizer in configure_optimizers with all parameters? Give it only the "
                f"trainable ones: {type(optimizer).__name__}(filter(lambda p: p.requires_grad, self.parameters()), "
                "...).",
                UserWarning,
                stacklevel=3,
            )
        return fresh

    @staticmethod
    def unfreeze_and_add_param_group(modules: Modules, optimizer: torch.optim.Optimizer, lr: float | None = None,
                                     initial_denom_lr: float = 10.0, train_bn: bool = True) -> None:
        """Unfreeze ``modules`` and add their parameters to ``optimizer`` as one group.

        The group's learning rate is ``lr``, or the first group's divided by ``initial_denom_lr``.
        """
        BaseFinetuning.make_trainable(modules)
        group_lr = optimizer.param_groups[0]["lr"] / initial_denom_lr if lr is None else float(lr)
        params = BaseFinetuning.filter_on_optimizer(
            optimizer, BaseFinetuning.filter_params(modules, train_bn=train_bn, requires_grad=True))
        if params:
            optimizer.add_param_group({"params": params, "lr": group_lr})

    # --- to implement -------------------------------------------------------------------------------------------
    def freeze_before_training(self, pl_module: Any) -> None:
        raise NotImplementedError

    def finetune_function(self, pl_module: Any, epoch: int, optimizer: torch.optim.Optimizer, opt_idx: int) -> None:
        raise NotImplementedError

    # --- hooks --------------------------------------------------------------------------------------------------
    def on_before_accelerator_backend_setup(self, trainer: Any, pl_module: Any) -> None:
        self.freeze_before_training(pl_module)

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        """On resume, add back the param groups the saved run had added, before the trainer loads the optimizer
        states (which only fit the same layout)."""
        if not self._restarting:
            return
        self._restarting = False
        named = dict(pl_module.named_parameters())
        for opt_idx, optimizer in enumerate(trainer.optimizers):
            saved_groups = self._internal_optimizer_metadata.get(opt_idx, [])
            for group in saved_groups[len(optimizer.param_groups):]:
                optimizer.add_param_group(self._group_from_names(group, named, optimizer, opt_idx))

    @staticmethod
    def _group_from_names(group: dict[str, Any], named: dict[str, torch.nn.Parameter],
                          optimizer: torch.optim.Optimizer, opt_idx: int) -> dict[str, Any]:
        names = group.get("params")
        if not isinstance(names, list):  # a state written before parameter names were kept
            raise MisconfigurationError(
                f"the checkpoint's {BaseFinetuning.__name__} state does not name the parameters of optimizer "
                f"{opt_idx}'s added param groups, so they cannot be rebuilt; resume from a checkpoint saved before "
                "the modules were unfrozen, or start a new fit from the weights")
        missing = [name for name in names if name not in named]
        if missing:
            raise MisconfigurationError(
                f"the checkpoint's finetuning state names parameters the model does not have: {missing[:5]}. "
                "Resume with the model the checkpoint was saved from")
        params = [named[name] for name in names]
        already = BaseFinetuning.filter_on_optimizer(optimizer, params)
        if len(already) != len(params):
            raise MisconfigurationError(
                f"optimizer {opt_idx} from configure_optimizers already holds parameters that the checkpoint's "
                "finetuning state adds as a later param group; configure_optimizers must return the optimizer the "
                "saved run started with")
        for param in params:  # they trained in the saved run: freeze_before_training froze them again
            param.requires_grad = True
        return {**{k: v for k, v in group.items() if k != "params"}, "params": params}

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        for opt_idx, optimizer in enumerate(trainer.optimizers):
            self.finetune_function(pl_module, trainer.current_epoch, optimizer, opt_idx)

    def _param_group_layout(self, trainer: Any, pl_module: Any) -> dict[int, list[dict[str, Any]]]:
        names = {id(p): name for name, p in pl_module.named_parameters()}
        return {opt_idx: [{**{k: v for k, v in group.items() if k != "params"},
                           "params": [names[id(p)] for p in group["params"] if id(p) in names]}
                          for group in optimizer.param_groups]
                for opt_idx, optimizer in enumerate(trainer.optimizers)}

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any]:
        # The layout at save time is the one the saved optimizer states fit.
        self._internal_optimizer_metadata = self._param_group_layout(trainer, pl_module)
        return {"internal_optimizer_metadata": self._internal_optimizer_metadata}

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
        self._internal_optimizer_metadata = dict(callback_state.get("internal_optimizer_metadata", {}))
        self._restarting = True


class BackboneFinetuning(BaseFinetuning):
    """Freeze ``pl_module.backbone``; at ``unfreeze_backbone_at_epoch`` add it to the optimizer, then scale its
    learning rate by ``lambda_func(epoch + 1)`` each epoch (capped at the first group's when ``should_align``).

    Args:
        unfreeze_backbone_at_epoch: the epoch (0-based) at which the backbone starts training.
        lambda_func: the backbone learning-rate factor per later epoch.
        backbone_initial_ratio_lr: the backbone's first learning rate as a fraction of the first group's.
        backbone_initial_lr: the backbone's first learning rate (wins over the ratio).
        should_align: never let the backbone's learning rate exceed the first group's.
        initial_denom_lr: denominator used when no backbone learning rate is derived (as 1.x).
        train_bn: BatchNorm layers of the backbone train while it is frozen.
        verbose: log the learning rates each epoch.
        rounding: decimals of the logged learning rates.
    """

    def __init__(self, unfreeze_backbone_at_epoch: int = 10, lambda_func: Callable[[int], float] = multiplicative,
                 backbone_initial_ratio_lr: float = 1e-1, backbone_initial_lr: float | None = None,
                 should_align: bool = True, initial_denom_lr: float = 10.0, train_bn: bool = True,
                 verbose: bool = False, rounding: int = 12) -> None:
        super().__init__()
        self.unfreeze_backbone_at_epoch = unfreeze_backbone_at_epoch
        self.lambda_func = lambda_func
        self.backbone_initial_ratio_lr = backbone_initial_ratio_lr
        self.backbone_initial_lr = backbone_initial_lr
        self.should_align = should_align
        self.initial_denom_lr = initial_denom_lr
        self.train_bn = train_bn
        self.verbose = verbose
        self.rounding = rounding
        self.previous_backbone_lr: float | None = None

    def on_before_accelerator_backend_setup(self, trainer: Any, pl_module: Any) -> None:
        if not isinstance(getattr(pl_module, "backbone", None), nn.Module):
            raise MisconfigurationError("BackboneFinetuning needs the LightningModule to have an nn.Module attribute "
                                        "`backbone` (the part to freeze and unfreeze)")
        super().on_before_accelerator_backend_setup(trainer, pl_module)

    def freeze_before_training(self, pl_module: Any) -> None:
        self.freeze(pl_module.backbone)

    def finetune_function(self, pl_module: Any, epoch: int, optimizer: torch.optim.Optimizer, opt_idx: int) -> None:
        current_lr = optimizer.param_groups[0]["lr"]
        if epoch == self.unfreeze_backbone_at_epoch:
            initial = (self.backbone_initial_lr if self.backbone_initial_lr is not None
                       else current_lr * self.backbone_initial_ratio_lr)
            self.previous_backbone_lr = initial
            self.unfreeze_and_add_param_group(pl_module.backbone, optimizer, initial, train_bn=self.train_bn,
                                              initial_denom_lr=self.initial_denom_lr)
        elif epoch > self.unfreeze_backbone_at_epoch and self.previous_backbone_lr is not None:
            following = self.lambda_func(epoch + 1) * self.previous_backbone_lr
            following = current_lr if (self.should_align and following > current_lr) else following
            optimizer.param_groups[-1]["lr"] = following
            self.previous_backbone_lr = following
        else:
            return
        if self.verbose:
            log.info("Current lr: %s, Backbone lr: %s", round(current_lr, self.rounding),
                     round(self.previous_backbone_lr, self.rounding))

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {**super().on_save_checkpoint(trainer, pl_module, checkpoint),
                "previous_backbone_lr": self.previous_backbone_lr}

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
        super().on_load_checkpoint(trainer, pl_module, callback_state)
        self.previous_backbone_lr = callback_state.get("previous_backbone_lr")
