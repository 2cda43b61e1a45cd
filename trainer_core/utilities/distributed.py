"""1.5 import path of the rank-zero helpers (``from pytorch_lightning.utilities.distributed import rank_zero_only``)."""

from trainer_core.utilities.rank_zero import rank_zero_debug, rank_zero_info, rank_zero_only, rank_zero_warn

__all__ = ["rank_zero_debug", "rank_zero_info", "rank_zero_only", "rank_zero_warn"]
