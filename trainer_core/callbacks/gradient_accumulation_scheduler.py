"""1.x module path of ``GradientAccumulationScheduler`` (it lives in
:mod:`trainer_core.callbacks.gradient_accumulation`)."""

from trainer_core.callbacks.gradient_accumulation import GradientAccumulationScheduler

__all__ = ["GradientAccumulationScheduler"]
