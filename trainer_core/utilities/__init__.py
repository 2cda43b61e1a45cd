"""Small helpers shared by the engine (``rank_zero_only`` is here too, where 1.x scripts import it from)."""

from trainer_core.loggers.base import rank_zero_only
from trainer_core.seed import seed_everything

__all__ = ["rank_zero_only", "seed_everything"]
