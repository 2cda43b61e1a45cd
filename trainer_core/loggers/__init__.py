"""Experiment loggers: ``CSVLogger``, ``TensorBoardLogger``, the hosted services' loggers, and the ``Logger`` base.

``WandbLogger``, ``MLFlowLogger``, ``CometLogger`` and ``NeptuneLogger`` need their service's package (``wandb``,
``mlflow``, ``comet-ml``, ``neptune``); constructing one without it raises a one-line error naming the package.
``TestTubeLogger`` only says that it was removed and what to use instead.

Examples:
    >>> import tempfile
    >>> from trainer_core.loggers import CSVLogger
    >>> logger = CSVLogger(tempfile.mkdtemp(), name="my_model")
    >>> logger.name, logger.version
    ('my_model', 0)
"""

from trainer_core.loggers.base import (
    DummyExperiment,
    DummyLogger,
    LightningLoggerBase,
    Logger,
    LoggerCollection,
    next_version,
    rank_zero_experiment,
    rank_zero_only,
)
from trainer_core.loggers.comet import CometLogger
from trainer_core.loggers.csv_logs import CSVLogger
from trainer_core.loggers.mlflow import MLFlowLogger
from trainer_core.loggers.neptune import NeptuneLogger
from trainer_core.loggers.tensorboard import TensorBoardLogger, tensorboard_available
from trainer_core.loggers.test_tube import TestTubeLogger
from trainer_core.loggers.wandb import WandbLogger

__all__ = [
    "CSVLogger",
    "CometLogger",
    "DummyExperiment",
    "DummyLogger",
    "LightningLoggerBase",
    "Logger",
    "LoggerCollection",
    "MLFlowLogger",
    "NeptuneLogger",
    "TensorBoardLogger",
    "TestTubeLogger",
    "WandbLogger",
    "next_version",
    "rank_zero_experiment",
    "rank_zero_only",
    "tensorboard_available",
]
