"""The resolved hardware request, on its own so that strategies can name it without importing device selection."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeviceChoice"]


@dataclass
class DeviceChoice:
    """The resolved hardware request.

    Attributes:
        accelerator: ``"cpu"`` or ``"gpu"``.
        device_ids: GPU indices; empty on the CPU.
        strategy: a registered strategy name: ``"single_device"``, ``"dp"``, ``"ddp"``, ``"ddp_spawn"``,
            ``"ddp_find_unused_parameters_false"``, ``"ddp_spawn_find_unused_parameters_false"``.
        num_processes: processes per node.
        num_nodes: machines.
    """

    accelerator: str
    device_ids: list[int]
    strategy: str
    num_processes: int
    num_nodes: int

    @property
    def world_size(self) -> int:
        return self.num_processes * self.num_nodes
