"""Lightning 1.x's enums that scripts import from ``pytorch_lightning.utilities``.

1.5-era code reads them to branch on the run's set-up, for example the DQN tutorial's
``if self.trainer._distrib_type in {DistributedType.DP, DistributedType.DDP2}: loss = loss.unsqueeze(0)``.
Each is a str enum with 1.5's values that compares equal to the plain (case-insensitive) string.

Examples:
    >>> DistributedType.DDP_SPAWN == "ddp_spawn", DeviceType.CPU == "cpu"
    (True, True)
    >>> distrib_type_of("single_device") is None, distrib_type_of("dp")
    (True, <DistributedType.DP: 'dp'>)
"""

from __future__ import annotations

from trainer_core.trainer.states import _StrEnum

__all__ = ["AMPType", "DeviceType", "DistributedType", "LightningEnum", "distrib_type_of"]

LightningEnum = _StrEnum


class DistributedType(LightningEnum):
    """How the run is spread over processes or devices (1.5 values); None on one device."""

    DP = "dp"
    DDP = "ddp"
    DDP2 = "ddp2"
    DDP_CPU = "ddp_cpu"
    DDP_SPAWN = "ddp_spawn"
    TPU_SPAWN = "tpu_spawn"
    DEEPSPEED = "deepspeed"
    HOROVOD = "horovod"
    DDP_SHARDED = "ddp_sharded"
    DDP_SHARDED_SPAWN = "ddp_sharded_spawn"
    DDP_FULLY_SHARDED = "ddp_fully_sharded"

    @staticmethod
    def interactive_compatible_types() -> list[DistributedType]:
        """The types that run inside a notebook (no new interpreter started)."""
        return [DistributedType.DP, DistributedType.DDP_SPAWN, DistributedType.DDP_SHARDED_SPAWN,
                DistributedType.TPU_SPAWN]

    def is_interactive_compatible(self) -> bool:
        return self in DistributedType.interactive_compatible_types()


class DeviceType(LightningEnum):
    """The kind of device the run trains on (1.5 values)."""

    CPU = "CPU"
    GPU = "GPU"
    IPU = "IPU"
    TPU = "TPU"


class AMPType(LightningEnum):
    """The mixed-precision backend (1.x values)."""

    APEX = "apex"
    NATIVE = "native"


def distrib_type_of(strategy_name: str) -> DistributedType | None:
    """``trainer._distrib_type`` for a strategy name: the matching member, None for one device."""
    try:
        return DistributedType(strategy_name)
    except ValueError:
        return None
