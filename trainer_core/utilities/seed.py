"""1.x module path ``pytorch_lightning.utilities.seed`` (scripts import ``seed_everything`` from here)."""

from trainer_core.seed import reset_seed, seed_everything
from trainer_core.seed import worker_init_function as pl_worker_init_function

__all__ = ["pl_worker_init_function", "reset_seed", "seed_everything"]
