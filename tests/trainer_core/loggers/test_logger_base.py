"""Logger base, DummyLogger, LoggerCollection, rank_zero_only, TensorBoardLogger and hparams conversion."""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from trainer_core.exceptions import MisconfigurationError
from trainer_core.loggers import (
    CSVLogger,
    DummyLogger,
    LightningLoggerBase,
    Logger,
    LoggerCollection,
    TensorBoardLogger,
    rank_zero_only,
    tensorboard_available,
)
from trainer_core.loggers.hparams_io import load_hparams_from_yaml, save_hparams_to_yaml, to_plain


class _Recording(Logger):
    def __init__(self) -> None:
        self.rows: list[tuple[dict[str, float], int | None]] = []
        self.saved = 0

    @property
    def name(self) -> str:
        return "rec"

    @property
    def version(self) -> int:
        return 3

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        self.rows.append((metrics, step))

    def log_hyperparams(self, params: Any, *args: Any, **kwargs: Any) -> None:
        pass

    def save(self) -> None:
        self.saved += 1


def test_base_defaults() -> None:
    logger = _Recording()
    assert logger.group_separator == "/"
    assert logger.save_dir is None and logger.log_dir is None
    logger.finalize("success")
    assert logger.saved == 1, "finalize saves by default"
    assert logger[0] is logger
    with pytest.raises(IndexError):
        logger[1]
    assert LightningLoggerBase is Logger


def test_dummy_logger_swallows_everything() -> None:
    logger = DummyLogger()
    logger.log_metrics({"a": 1.0}, step=0)
    logger.log_hyperparams({"a": 1})
    logger.finalize("success")
    assert logger.experiment.add_scalar("x", 1.0) is None
    assert logger[5] is logger
    assert logger.log_dir is None and logger.name == "" and logger.version == ""


def test_collection_forwards_to_each(tmp_path: Path) -> None:
    first, second = _Recording(), CSVLogger(tmp_path, name="csv")
    collection = LoggerCollection([first, second])
    collection.log_metrics({"loss": 0.5}, step=4)
    collection.finalize("success")
    assert first.rows == [({"loss": 0.5}, 4)]
    assert os.path.isfile(os.path.join(second.log_dir, "metrics.csv"))
    assert collection.name == "rec_csv" and collection.version == "3_0"
    assert collection[1] is second and len(collection) == 2


def test_rank_zero_only_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    @rank_zero_only
    def record(value: int) -> int:
        calls.append(value)
        return value

    assert record(1) == 1
    monkeypatch.setattr(rank_zero_only, "rank", 2)
    assert record(2) is None
    assert calls == [1]


def test_tensorboard_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    with pytest.raises(MisconfigurationError, match=r"`tensorboard` package.*pip install tensorboard") as err:
        TensorBoardLogger(tmp_path)
    assert "\n" not in str(err.value)
    assert not os.listdir(tmp_path), "nothing is created before the error"


@pytest.mark.skipif(not tensorboard_available(), reason="needs the optional tensorboard package")
def test_tensorboard_writes_events_and_hparams(tmp_path: Path) -> None:
    logger = TensorBoardLogger(tmp_path)
    assert logger.log_dir == str(tmp_path / "lightning_logs" / "version_0")
    logger.log_hyperparams({"lr": 0.01, "net": {"depth": 2}})
    logger.log_metrics({"loss": torch.tensor(0.5)}, step=1)
    logger.finalize("success")
    files = os.listdir(logger.log_dir)
    assert "hparams.yaml" in files
    assert any(name.startswith("events.out.tfevents") for name in files)
    assert load_hparams_from_yaml(os.path.join(logger.log_dir, "hparams.yaml")) == {"lr": 0.01, "net": {"depth": 2}}
    assert TensorBoardLogger(tmp_path).version == 1


class _Color(enum.Enum):
    RED = "red"


def test_to_plain_conversions(tmp_path: Path) -> None:
    plain = to_plain({
        "t": torch.tensor([[1.5, 2.0]]),
        "f32": torch.tensor(0.1),
        "i": torch.tensor(7),
        "np": np.arange(3),
        "np64": np.float64(0.25),
        "color": _Color.RED,
        "path": tmp_path,
        "fn": len,
        "obj": object.__new__(_Unprintable),
        "set": {3},
    })
    assert plain == {"t": [[1.5, 2.0]], "f32": 0.1, "i": 7, "np": [0, 1, 2], "np64": 0.25, "color": "red",
                     "path": str(tmp_path), "fn": "len", "obj": "<unprintable>", "set": [3]}
    path = str(tmp_path / "h.yaml")
    save_hparams_to_yaml(path, plain)
    assert yaml.safe_load(open(path).read()) == plain
    assert "!!python" not in open(path).read()


class _Unprintable:
    def __str__(self) -> str:
        return "<unprintable>"


def test_rank_zero_only_asks_an_initialised_process_group(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 1)
    logger = CSVLogger(tmp_path)
    logger.log_metrics({"x": 1.0}, step=0)
    logger.finalize("success")
    assert not (tmp_path / "lightning_logs").exists()


def test_rank_zero_experiment_and_agg_and_log_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer_core.loggers import DummyExperiment, rank_zero_experiment

    class WithExperiment(_Recording):
        @property
        @rank_zero_experiment
        def experiment(self) -> str:
            return "real writer"

    logger = WithExperiment()
    assert logger.experiment == "real writer"
    logger.agg_and_log_metrics({"loss": 1.0}, step=2)
    assert logger.rows == [({"loss": 1.0}, 2)]
    monkeypatch.setattr(rank_zero_only, "rank", 1)
    assert isinstance(logger.experiment, DummyExperiment)
