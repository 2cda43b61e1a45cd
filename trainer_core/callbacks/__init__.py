"""Built-in callbacks (Lightning 1.x names and arguments)."""

from __future__ import annotations

from trainer_core.callback import Callback
from trainer_core.callbacks.device_stats import DeviceStatsMonitor
from trainer_core.callbacks.early_stopping import EarlyStopping
from trainer_core.callbacks.finetuning import BackboneFinetuning, BaseFinetuning
from trainer_core.callbacks.gpu_stats_monitor import GPUStatsMonitor
from trainer_core.callbacks.gradient_accumulation import GradientAccumulationScheduler
from trainer_core.callbacks.lambda_function import LambdaCallback
from trainer_core.callbacks.lr_monitor import LearningRateMonitor
from trainer_core.callbacks.model_checkpoint import ModelCheckpoint
from trainer_core.callbacks.model_summary import ModelSummary
from trainer_core.callbacks.prediction_writer import BasePredictionWriter
from trainer_core.callbacks.progress import ProgressBar, TQDMProgressBar
from trainer_core.callbacks.progress_base import ProgressBarBase
from trainer_core.callbacks.pruning import ModelPruning
from trainer_core.callbacks.quantization import QuantizationAwareTraining
from trainer_core.callbacks.rich_model_summary import RichModelSummary
from trainer_core.callbacks.rich_progress import RichProgressBar
from trainer_core.callbacks.swa import StochasticWeightAveraging
from trainer_core.callbacks.timer import Timer
from trainer_core.callbacks.xla_stats_monitor import XLAStatsMonitor

__all__ = [
    "BackboneFinetuning",
    "BaseFinetuning",
    "BasePredictionWriter",
    "Callback",
    "DeviceStatsMonitor",
    "EarlyStopping",
    "GPUStatsMonitor",
    "GradientAccumulationScheduler",
    "LambdaCallback",
    "LearningRateMonitor",
    "ModelCheckpoint",
    "ModelPruning",
    "ModelSummary",
    "ProgressBar",
    "ProgressBarBase",
    "QuantizationAwareTraining",
    "RichModelSummary",
    "RichProgressBar",
    "StochasticWeightAveraging",
    "TQDMProgressBar",
    "Timer",
    "XLAStatsMonitor",
]
