"""Trainer(logger=[...]), log_graph at fit start, and pickling a Trainer (issue 14, items 25-26)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer
from trainer_core import Trainer
from trainer_core.loggers import CSVLogger, LoggerCollection


class GraphCountingLogger(CSVLogger):
    def __init__(self, save_dir: str) -> None:
        super().__init__(save_dir)
        self.graphs: list[Any] = []

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        self.graphs.append(model)


def test_a_list_of_one_logger_is_a_collection(tmp_path: Path) -> None:
    logger = CSVLogger(str(tmp_path))
    trainer = quiet_trainer(logger=[logger])
    assert isinstance(trainer.logger, LoggerCollection)
    assert trainer.logger[0] is logger
    assert trainer.loggers == [logger]
    assert quiet_trainer(logger=logger).logger is logger


def test_log_graph_is_called_once_at_fit_start(tmp_path: Path) -> None:
    logger = GraphCountingLogger(str(tmp_path))
    model = BoringModel()
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1, logger=[logger])
    trainer.fit(model)
    assert logger.graphs == [model]


def test_a_trainer_with_the_default_logger_pickles(tmp_path: Path) -> None:
    trainer = Trainer(max_epochs=1, default_root_dir=str(tmp_path))
    copy = pickle.loads(pickle.dumps(trainer))
    assert copy.max_epochs == 1
    assert [type(logger).__name__ for logger in copy.loggers] == [type(logger).__name__ for logger in trainer.loggers]


def test_tensorboard_logger_with_log_graph_draws_the_graph_at_fit_start(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="tensorboard is a main dependency; missing install")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from trainer_core.loggers import TensorBoardLogger

    class WithExample(BoringModel):
        def __init__(self) -> None:
            super().__init__()
            self.example_input_array = torch.randn(2, 32)

    logger = TensorBoardLogger(str(tmp_path), log_graph=True)
    quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, logger=logger).fit(WithExample())
    events = EventAccumulator(logger.log_dir)
    events.Reload()
    assert events.Tags()["graph"] is True
