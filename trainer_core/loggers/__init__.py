"""Experiment loggers: ``CSVLogger``, ``TensorBoardLogger`` (optional ``tensorboard``), and the ``Logger`` base.

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
from trainer_core.loggers.csv_logs import CSVLogger
from trainer_core.loggers.tensorboard import TensorBoardLogger, tensorboard_available

__all__ = [
    "CSVLogger",
    "DummyExperiment",
    "DummyLogger",
    "LightningLoggerBase",
    "Logger",
    "LoggerCollection",
    "TensorBoardLogger",
    "next_version",
    "rank_zero_experiment",
    "rank_zero_only",
    "tensorboard_available",
]
