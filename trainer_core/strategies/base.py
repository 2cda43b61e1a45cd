"""The strategy seam: devices, ranks, collectives. The single-process strategy is the identity for collectives."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

import torch

__all__ = ["ParallelStrategy", "Strategy", "SingleDeviceStrategy", "set_sampler_epoch", "loader_batch_size"]

log = logging.getLogger("trainer_core")


class Strategy:
    """Base strategy: one process on ``root_device``. Distributed strategies override the collectives."""

    name = "single_device"
    # Distributed strategies that launch their own processes set this; the trainer then hands fit() to launch().
    launches_processes = False

    def __init__(self, device: torch.device | str = "cpu") -> None:
        self.root_device = torch.device(device)
        self.world_size = 1
        self.global_rank = 0
        self.local_rank = 0
        self.node_rank = 0
        self.num_nodes = 1
        self.num_devices = 1

    @property
    def is_global_zero(self) -> bool:
        return self.global_rank == 0

    # --- lifecycle -------------------------------------------------------------------------------------------
    def setup_environment(self) -> None:
        """Set up process groups or devices before anything else runs."""
        if self.root_device.type == "cuda":
            torch.cuda.set_device(self.root_device)

    def setup_module(self, module: torch.nn.Module) -> torch.nn.Module:
        """Move the module to the device (and wrap it, for DP/DDP). Returns what the loops should call."""
        return module.to(self.root_device)

    def unwrap(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    def teardown(self) -> None:
        """Release process groups."""

    def process_dataloader(self, dataloader: Any) -> Any:
        return dataloader

    def before_train_epoch(self, trainer: Any, epoch: int) -> None:
        """Called by the fit loop before each training epoch iterates its loader.

        Samplers with ``set_epoch`` (DistributedSampler) get the epoch, so every epoch shuffles differently while
        all ranks agree on the order; the first epoch also reports the effective batch size on rank 0.
        """
        set_sampler_epoch(getattr(trainer, "train_dataloader", None), epoch)
        if not getattr(self, "_batch_reported", False):
            self._batch_reported = True
            self.report_effective_batch_size(trainer)

    def report_effective_batch_size(self, trainer: Any) -> None:
        """Log (rank 0) how many samples one optimizer step sees when several processes share the work."""
        if self.world_size <= 1 or not self.is_global_zero:
            return
        batch = loader_batch_size(getattr(trainer, "train_dataloader", None))
        if batch is None:
            return
        accumulate = getattr(trainer, "accumulate_grad_batches", 1)
        accumulate = accumulate if isinstance(accumulate, int) and accumulate > 1 else 1
        message = (f"Effective batch size: {batch} per process x {self.world_size} processes ({self.num_nodes} "
                   f"node(s) x {self.num_devices} device(s)) = {batch * self.world_size}")
        if accumulate > 1:
            message += f"; x accumulate_grad_batches={accumulate} = {batch * self.world_size * accumulate} per step"
        log.info(message)

    def block_backward_sync(self, model: Any) -> Any:
        """Context that skips gradient all-reduce (non-final micro-batches under DDP)."""
        return nullcontext()

    # --- steps (DP/DDP route these through their wrapper) -----------------------------------------------------
    def training_step(self, trainer: Any, *args: Any) -> Any:
        return trainer._hooks.module("training_step", *args)

    def eval_step(self, trainer: Any, step_name: str, *args: Any) -> Any:
        return trainer._hooks.module(step_name, *args)

    # --- collectives (identity in one process) ---------------------------------------------------------------
    def reduce(self, tensor: torch.Tensor, reduce_op: str = "mean") -> torch.Tensor:
        return tensor

    def reduce_boolean_decision(self, decision: bool, all: bool = False) -> bool:  # noqa: A002 - Lightning's name
        return decision

    def broadcast(self, obj: Any, src: int = 0) -> Any:
        return obj

    def all_gather(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.unsqueeze(0)

    def all_gather_object(self, obj: Any) -> list[Any]:
        """Every rank's ``obj`` (picklable), in rank order; e.g. per-rank device statistics for rank 0 to log."""
        return [obj]

    def barrier(self, name: str | None = None) -> None:
        """Wait for all processes (nothing to wait for in one process)."""

    def distributed_sampler_kwargs(self) -> dict[str, int] | None:
        return None


def _samplers(loader: Any) -> list[Any]:
    """The samplers of a DataLoader (its sampler and the batch sampler's) or of each loader of a combination."""
    if loader is None:
        return []
    inner = getattr(loader, "loaders", None)  # CombinedLoader
    if inner is not None:
        parts = inner.values() if isinstance(inner, dict) else inner
        return [s for part in parts for s in _samplers(part)]
    if isinstance(loader, (list, tuple)):
        return [s for part in loader for s in _samplers(part)]
    found = [getattr(loader, "sampler", None), getattr(getattr(loader, "batch_sampler", None), "sampler", None)]
    return [s for s in found if s is not None]


def set_sampler_epoch(loader: Any, epoch: int) -> None:
    """Call ``set_epoch(epoch)`` on every sampler of ``loader`` that has it (DistributedSampler reshuffles by it)."""
    seen: set[int] = set()
    for sampler in _samplers(loader):
        if id(sampler) not in seen and callable(getattr(sampler, "set_epoch", None)):
            seen.add(id(sampler))
            sampler.set_epoch(epoch)


def loader_batch_size(loader: Any) -> int | None:
    """The per-process batch size of a training loader (the first loader of a combination), if it has one."""
    inner = getattr(loader, "loaders", None)
    if inner is not None:
        parts = list(inner.values()) if isinstance(inner, dict) else list(inner)
        return loader_batch_size(parts[0]) if parts else None
    size = getattr(loader, "batch_size", None)
    if size is None:
        size = getattr(getattr(loader, "batch_sampler", None), "batch_size", None)
    return size if isinstance(size, int) else None


class ParallelStrategy(Strategy):
    """Base of the strategies that run one model over several devices (DP, DDP, DDP spawn), as in 1.6+.

    Scripts test ``isinstance(trainer.strategy, ParallelStrategy)`` and then divide their batch size by
    ``num_processes``.
    """

    @property
    def num_processes(self) -> int:
        """How many devices this process group trains on (1.6 spelling of ``num_devices``)."""
        return self.num_devices


class SingleDeviceStrategy(Strategy):
    """Everything in this process on one device."""
