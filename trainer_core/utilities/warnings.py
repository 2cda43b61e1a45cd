"""1.5 import path of the rank-zero warning helpers (``pytorch_lightning.utilities.warnings``)."""

from trainer_core.utilities.rank_zero import rank_zero_deprecation, rank_zero_warn

__all__ = ["rank_zero_deprecation", "rank_zero_warn"]
