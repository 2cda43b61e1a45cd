"""``StochasticWeightAveraging`` (1.x): average the weights of the last epochs with ``torch.optim.swa_utils``.

Timing as in 1.5: from epoch ``swa_start`` (the epoch before ``swa_epoch_start``, 0-based) the learning-rate
scheduler becomes ``SWALR``, and at the start of each epoch up to the last one the current weights join the running
average. When training ends the model takes the averaged weights and, if it has BatchNorm layers, their statistics
are recomputed with one pass over the training data (``torch.optim.swa_utils.update_bn``).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.optim.swa_utils import SWALR

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError
from trainer_core.utilities.rank_zero import rank_zero_info, rank_zero_warn

__all__ = ["StochasticWeightAveraging"]

AvgFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


class StochasticWeightAveraging(Callback):
    """Stochastic Weight Averaging (Izmailov et al., 2018) with 1.5's arguments.

    Args:
        swa_epoch_start: an int (>= 1) is the epoch (1-based) of the first averaging; a float in (0, 1] is that
            fraction of ``max_epochs``.
        swa_lrs: the SWA learning rate(s): one float for every param group, a list per group, or None to keep the
            current ones.
        annealing_epochs: epochs over which SWALR anneals to ``swa_lrs``.
        annealing_strategy: ``"cos"`` or ``"linear"``.
        avg_fn: ``(averaged, current, n_averaged) -> new averaged`` (default: the running mean).
        device: where the averaged copy lives (``None``: the model's device). The CPU by default saves GPU memory.
    """

    def __init__(self, swa_epoch_start: int | float = 0.8, swa_lrs: float | list[float] | None = None,
                 annealing_epochs: int = 10, annealing_strategy: str = "cos", avg_fn: AvgFn | None = None,
                 device: torch.device | str | None = "cpu") -> None:
        wrong_int = isinstance(swa_epoch_start, int) and swa_epoch_start < 1
        wrong_float = isinstance(swa_epoch_start, float) and not 0 < swa_epoch_start <= 1
        if isinstance(swa_epoch_start, bool) or wrong_int or wrong_float:
            raise MisconfigurationError(f"StochasticWeightAveraging(swa_epoch_start={swa_epoch_start!r}): give an "
                                        "int >= 1 or a float in (0, 1]")
        lrs = swa_lrs if isinstance(swa_lrs, list) else [swa_lrs] if swa_lrs is not None else []
        if any(not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr <= 0 for lr in lrs):
            raise MisconfigurationError(f"StochasticWeightAveraging(swa_lrs={swa_lrs!r}): give a positive float, "
                                        "a list of positive floats (one per param group) or None")
        if annealing_strategy not in ("cos", "linear"):
            raise MisconfigurationError(f"StochasticWeightAveraging(annealing_strategy={annealing_strategy!r}): give "
                                        "\"cos\" or \"linear\"")
        self._swa_epoch_start = swa_epoch_start
        self._swa_lrs = swa_lrs
        self._annealing_epochs = annealing_epochs
        self._annealing_strategy = annealing_strategy
        self._avg_fn = avg_fn or self.avg_fn
        self._device = torch.device(device) if device is not None else None
        self._average_model: nn.Module | None = None
        self._max_epochs = 0
        self.n_averaged: torch.Tensor | None = None

    @property
    def swa_start(self) -> int:
        return max(int(self._swa_epoch_start) - 1, 0)

    @property
    def swa_end(self) -> int:
        return self._max_epochs - 1

    @staticmethod
    def pl_module_contains_batch_norm(pl_module: nn.Module) -> bool:
        return any(isinstance(module, _BatchNorm) for module in pl_module.modules())

    @staticmethod
    def avg_fn(averaged: torch.Tensor, current: torch.Tensor, num_averaged: torch.Tensor) -> torch.Tensor:
        return averaged + (current - averaged) / (num_averaged + 1)

    def on_before_accelerator_backend_setup(self, trainer: Any, pl_module: Any) -> None:
        # The copy must not take the trainer along (1.5 blocked that too): after a fit the trainer holds loggers
        # with threads and locks, which cannot be copied ("cannot pickle '_thread.lock'" in a later test()).
        # Pre-filling deepcopy's memo makes the copy's ``trainer`` None without touching the module.
        attached = vars(pl_module).get("trainer")
        memo: dict[int, Any] = {id(attached): None} if attached is not None else {}
        self._average_model = deepcopy(pl_module, memo)

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        if len(trainer.optimizers) != 1:
            raise MisconfigurationError(f"StochasticWeightAveraging works with one optimizer; configure_optimizers "
                                        f"returned {len(trainer.optimizers)}")
        if len(trainer.lr_schedulers) > 1:
            raise MisconfigurationError("StochasticWeightAveraging works with at most one learning-rate scheduler; "
                                        f"configure_optimizers returned {len(trainer.lr_schedulers)}")
        if trainer.max_epochs is None or trainer.max_epochs < 1:
            raise MisconfigurationError("StochasticWeightAveraging needs max_epochs (its schedule counts epochs)")
        if isinstance(self._swa_epoch_start, float):
            self._swa_epoch_start = int(trainer.max_epochs * self._swa_epoch_start)
        self._max_epochs = trainer.max_epochs

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        epoch = trainer.current_epoch
        if epoch == self.swa_start:
            self._start_swa(trainer, pl_module)
        if self.swa_start <= epoch <= self.swa_end and self._average_model is not None:
            self.update_parameters(self._average_model, pl_module, self.n_averaged, self._avg_fn)

    def _start_swa(self, trainer: Any, pl_module: Any) -> None:
        assert self._average_model is not None
        self._average_model = self._average_model.to(self._device or pl_module.device)
        optimizer = trainer.optimizers[0]
        if self._swa_lrs is None:
            self._swa_lrs = [group["lr"] for group in optimizer.param_groups]
        if isinstance(self._swa_lrs, (int, float)):
            self._swa_lrs = [float(self._swa_lrs)] * len(optimizer.param_groups)
        for lr, group in zip(self._swa_lrs, optimizer.param_groups):
            group["initial_lr"] = lr
        scheduler = SWALR(optimizer, swa_lr=self._swa_lrs, anneal_epochs=self._annealing_epochs,
                          anneal_strategy=self._annealing_strategy,  # type: ignore[arg-type]
                          last_epoch=trainer.max_epochs if self._annealing_strategy == "cos" else -1)
        config = {"scheduler": scheduler, "interval": "epoch", "frequency": 1, "monitor": None, "strict": True,
                  "name": None, "reduce_on_plateau": False, "opt_idx": 0}
        if trainer.lr_schedulers:
            # 1.5 swaps the user's scheduler for SWALR and says so: without a word, a user's scheduler (a warm-up,
            # a decay) silently stops shaping the learning rate for the rest of the fit.
            replaced = trainer.lr_schedulers[0]
            if replaced.get("interval") != "epoch" or replaced.get("frequency") != 1:
                rank_zero_warn(f"SWA is currently only supported every epoch. Found {replaced}")
            rank_zero_info(f"Swapping scheduler `{type(replaced['scheduler']).__name__}` for `SWALR`")
            trainer.lr_schedulers[0] = config
        else:
            trainer.lr_schedulers.append(config)
        self.n_averaged = torch.tensor(0, dtype=torch.long, device=pl_module.device)

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        if self._average_model is None or self.n_averaged is None or int(self.n_averaged) == 0:
            return
        self.transfer_weights(self._average_model, pl_module)
        if self.pl_module_contains_batch_norm(pl_module) and trainer.train_dataloader is not None:
            loader = trainer.train_dataloader
            was_training = pl_module.training
            torch.optim.swa_utils.update_bn(_inputs(loader), pl_module, device=pl_module.device)
            pl_module.train(was_training)

    @staticmethod
    def transfer_weights(src: nn.Module, dst: nn.Module) -> None:
        for src_param, dst_param in zip(src.parameters(), dst.parameters()):
            dst_param.detach().copy_(src_param.to(dst_param.device))

    @staticmethod
    def update_parameters(average_model: nn.Module, model: nn.Module, n_averaged: torch.Tensor | None,
                          avg_fn: AvgFn) -> None:
        """Fold ``model``'s current parameters into ``average_model`` (the first call copies them)."""
        assert n_averaged is not None
        for averaged, current in zip(average_model.parameters(), model.parameters()):
            averaged_ = averaged.detach()
            current_ = current.detach().to(averaged_.device)
            source = current_ if n_averaged == 0 else avg_fn(averaged_, current_, n_averaged.to(averaged_.device))
            averaged_.copy_(source)
        n_averaged += 1

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any]:
        return {"n_averaged": None if self.n_averaged is None else int(self.n_averaged),
                "average_model_state": None if self._average_model is None else self._average_model.state_dict()}

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None:
        if callback_state.get("n_averaged") is not None:
            self.n_averaged = torch.tensor(callback_state["n_averaged"], dtype=torch.long)
        state = callback_state.get("average_model_state")
        if state is not None and self._average_model is not None:
            self._average_model.load_state_dict(state)


def _inputs(loader: Any) -> Any:
    """The loader's batches as ``update_bn`` reads them: the first element of a (input, target) batch."""
    for batch in loader:
        yield batch[0] if isinstance(batch, (list, tuple)) else batch
