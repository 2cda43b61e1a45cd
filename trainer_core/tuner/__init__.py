"""Tuners: the learning-rate finder and the batch-size finder, reachable as ``trainer.tuner``.

Examples:
    >>> import trainer_core as pl
    >>> trainer = pl.Trainer(auto_lr_find=True, logger=False)  # doctest: +SKIP
    >>> trainer.tune(model)["lr_find"].suggestion()  # doctest: +SKIP
"""

from trainer_core.tuner.batch_size import Trial, is_oom_error
from trainer_core.tuner.lr_finder import LRFinder
from trainer_core.tuner.tuning import Tuner

__all__ = ["LRFinder", "Trial", "Tuner", "is_oom_error"]
