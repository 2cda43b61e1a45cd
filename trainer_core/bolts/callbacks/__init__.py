"""The callbacks of PyTorch Lightning Bolts, with Bolts' class names and constructor arguments.

Images go through ``trainer.logger.experiment.add_image`` and histograms through ``add_histogram`` (the default
TensorBoard logger records both for the studio). torchvision is used for image grids only when it is installed.
"""

from trainer_core.bolts.callbacks.data_monitor import ModuleDataMonitor, TrainingDataMonitor
from trainer_core.bolts.callbacks.optional_packages import ORTCallback, SparseMLCallback
from trainer_core.bolts.callbacks.printing import PrintTableMetricsCallback
from trainer_core.bolts.callbacks.ssl import BYOLMAWeightUpdate, KNNOnlineEvaluator, SSLOnlineEvaluator
from trainer_core.bolts.callbacks.verification import (
    BatchGradientVerification,
    BatchGradientVerificationCallback,
    check_batch_independence,
)
from trainer_core.bolts.callbacks.vision import (
    ConfusedLogitCallback,
    LatentDimInterpolator,
    SRImageLoggerCallback,
    TensorboardGenerativeModelImageSampler,
)

__all__ = [
    "BYOLMAWeightUpdate",
    "BatchGradientVerification",
    "BatchGradientVerificationCallback",
    "ConfusedLogitCallback",
    "KNNOnlineEvaluator",
    "LatentDimInterpolator",
    "ModuleDataMonitor",
    "ORTCallback",
    "PrintTableMetricsCallback",
    "SRImageLoggerCallback",
    "SSLOnlineEvaluator",
    "SparseMLCallback",
    "TensorboardGenerativeModelImageSampler",
    "TrainingDataMonitor",
    "check_batch_independence",
]
