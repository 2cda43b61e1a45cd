"""1.x module path of ``StochasticWeightAveraging`` (the class lives in :mod:`trainer_core.callbacks.swa`)."""

from trainer_core.callbacks.swa import StochasticWeightAveraging

__all__ = ["StochasticWeightAveraging"]
