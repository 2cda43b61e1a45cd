"""Small helpers shared by the engine (``rank_zero_only`` is here too, where 1.x scripts import it from)."""

from trainer_core.loggers.base import rank_zero_only
from trainer_core.seed import seed_everything
from trainer_core.utilities.enums import AMPType, DeviceType, DistributedType, LightningEnum
from trainer_core.utilities.rank_zero import rank_zero_debug, rank_zero_deprecation, rank_zero_info, rank_zero_warn

__all__ = ["AMPType", "DeviceType", "DistributedType", "LightningEnum", "rank_zero_debug", "rank_zero_deprecation",
           "rank_zero_info", "rank_zero_only", "rank_zero_warn", "seed_everything"]
