"""The strategy seam: devices, ranks, collectives. The single-process strategy is the identity for collectives."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch

__all__ = ["Strategy", "SingleDeviceStrategy"]


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

    def barrier(self, name: str | None = None) -> None:
        """Wait for all processes (nothing to wait for in one process)."""

    def distributed_sampler_kwargs(self) -> dict[str, int] | None:
        return None


class SingleDeviceStrategy(Strategy):
    """Everything in this process on one device."""
