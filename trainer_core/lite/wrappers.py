"""What ``LightningLite.setup`` and ``setup_dataloaders`` hand back: a module, optimizers and loaders that apply
the chosen precision and device without changing how the user's loop reads."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

from trainer_core.precision.plugins import Precision
from trainer_core.utilities.apply import apply_to_tensors, move_to_device

__all__ = ["LiteDataLoader", "LiteModule", "LiteOptimizer", "distributed_loader"]


class LiteModule(nn.Module):
    """The user's module run under the precision's autocast; outputs come back in the default float dtype.

    ``state_dict``/``load_state_dict`` are the original module's (no wrapper prefixes in saved files), and
    ``module`` is the original module.
    """

    def __init__(self, forward_module: nn.Module, precision: Precision, original_module: nn.Module) -> None:
        super().__init__()
        self._forward_module = forward_module
        self._precision = [precision]  # a list keeps the plugin out of nn.Module's registries
        object.__setattr__(self, "_original_module", original_module)

    @property
    def module(self) -> nn.Module:
        return self._original_module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        precision = self._precision[0]
        args, kwargs = precision.convert_input((args, kwargs))
        with precision.forward_context():
            output = self._forward_module(*args, **kwargs)
        if precision.bits == 16:
            default = torch.get_default_dtype()
            output = apply_to_tensors(output, lambda t: t.to(default) if t.is_floating_point() else t)
        return output

    def state_dict(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._original_module.state_dict(*args, **kwargs)

    def load_state_dict(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return self._original_module.load_state_dict(*args, **kwargs)


class LiteOptimizer:
    """The user's optimizer whose ``step`` goes through the precision (a GradScaler steps and updates there).

    The object is an instance of the user's optimizer class too (``isinstance(opt, torch.optim.Adadelta)``), as in
    Lightning 1.5, so ``StepLR(opt, ...)`` and other schedulers accept it. It shares the optimizer's state:
    ``param_groups``, ``state`` and ``defaults`` are the very objects the wrapped optimizer holds, so a scheduler
    changing an lr here changes it there.
    """

    def __new__(cls, optimizer: torch.optim.Optimizer | None = None, *args: Any, **kwargs: Any) -> LiteOptimizer:
        if optimizer is None:  # copy/pickle protocols create the object empty first
            return super().__new__(cls)
        return super().__new__(_lite_class_for(cls, type(optimizer)))

    def __init__(self, optimizer: torch.optim.Optimizer, precision: Precision) -> None:
        # Not Optimizer.__init__: the optimizer is built already. Its attributes are shared (a shallow copy of the
        # instance dict); its own ``step`` stays behind, this class's ``step`` adds the precision.
        self.__dict__.update({key: value for key, value in optimizer.__dict__.items() if key != "step"})
        self._optimizer = optimizer
        self._precision = precision

    @property
    def optimizer(self) -> torch.optim.Optimizer:
        return self._optimizer

    def step(self, closure: Any = None) -> Any:
        return self._precision.optimizer_step(self._optimizer, closure if closure is not None else _no_closure)

    def __getattr__(self, name: str) -> Any:
        if name == "_optimizer":  # not set yet (an object made empty by copy/pickle)
            raise AttributeError(name)
        return getattr(self._optimizer, name)


@functools.cache
def _lite_class_for(lite_cls: type, optimizer_cls: type) -> type:
    """``Lite<OptimizerName>``: the Lite wrapper's behaviour first, then the user's optimizer class."""
    return type(f"Lite{optimizer_cls.__name__}", (lite_cls, optimizer_cls), {})


def _no_closure() -> None:
    return None


class LiteDataLoader:
    """Iterates the loader and moves each batch to the device (when asked to)."""

    def __init__(self, dataloader: DataLoader, device: torch.device | None) -> None:
        self._dataloader = dataloader
        self._device = device

    def __len__(self) -> int:
        return len(self._dataloader)

    def __iter__(self) -> Iterator[Any]:
        for batch in self._dataloader:
            yield batch if self._device is None else move_to_device(batch, self._device)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dataloader, name)


def distributed_loader(loader: DataLoader, num_replicas: int, rank: int) -> DataLoader:
    """The same loader over this rank's share of the data (a DistributedSampler; shuffled when it shuffled).

    A loader with a sampler of its own (not the default sequential/random one) is returned unchanged: its
    sampler already decides what each process reads.
    """
    sampler = loader.sampler
    if not isinstance(sampler, (SequentialSampler, RandomSampler)) or loader.batch_sampler is None:
        return loader
    distributed = DistributedSampler(loader.dataset, num_replicas=num_replicas, rank=rank,
                                     shuffle=isinstance(sampler, RandomSampler))
    return DataLoader(loader.dataset, batch_size=loader.batch_size, sampler=distributed,
                      num_workers=loader.num_workers, collate_fn=loader.collate_fn, pin_memory=loader.pin_memory,
                      drop_last=loader.drop_last, timeout=loader.timeout, worker_init_fn=loader.worker_init_fn,
                      persistent_workers=loader.persistent_workers if loader.num_workers > 0 else False)
