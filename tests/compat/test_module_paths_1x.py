"""Module paths that real Lightning 1.x scripts import from, reached with only `pytorch_lightning` renamed.

Found by running the 1.x example scripts unchanged: each import below stopped one of them before any training.
"""

from __future__ import annotations

import importlib
import logging

import pytest

import trainer_core as pl


@pytest.mark.parametrize(("module", "name"), [
    ("trainer_core.core", "LightningModule"),
    ("trainer_core.core", "LightningDataModule"),
    ("trainer_core.core.lightning", "LightningModule"),
    ("trainer_core.core.datamodule", "LightningDataModule"),
    ("trainer_core.trainer", "Trainer"),
    ("trainer_core.profiler", "SimpleProfiler"),
    ("trainer_core.profiler.pytorch", "PyTorchProfiler"),
    ("trainer_core.profiler.simple", "SimpleProfiler"),
    ("trainer_core.profiler.advanced", "AdvancedProfiler"),
    ("trainer_core.profiler.base", "PassThroughProfiler"),
    ("trainer_core.utilities", "rank_zero_info"),
    ("trainer_core.utilities.rank_zero", "rank_zero_warn"),
    ("trainer_core.utilities.imports", "_TORCHVISION_AVAILABLE"),
    ("trainer_core.strategies", "ParallelStrategy"),
    ("trainer_core", "_logger"),
])
def test_1x_import_path_resolves(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"from {module} import {name}"


def test_old_paths_give_the_same_classes() -> None:
    from trainer_core.core.datamodule import LightningDataModule
    from trainer_core.core.lightning import LightningModule
    from trainer_core.profiler.pytorch import PyTorchProfiler
    from trainer_core.profilers import PyTorchProfiler as Current

    assert LightningModule is pl.LightningModule
    assert LightningDataModule is pl.LightningDataModule
    assert PyTorchProfiler is Current


def test_package_logger_is_the_engine_logger() -> None:
    assert isinstance(pl._logger, logging.Logger)
    assert pl._logger.name == "trainer_core"


def test_availability_flags_follow_what_is_installed() -> None:
    from trainer_core.utilities import imports

    assert imports._module_available("torch") is True
    assert imports._module_available("surely_not_a_real_package_name") is False
    assert imports._module_available("surely_not.a_submodule") is False
    assert imports._JSONARGPARSE_AVAILABLE is True  # a main dependency of the project


def test_rank_zero_info_logs_through_the_engine_logger(caplog: pytest.LogCaptureFixture) -> None:
    from trainer_core.utilities.rank_zero import rank_zero_info, rank_zero_warn

    with caplog.at_level(logging.INFO, logger="trainer_core"):
        rank_zero_info("The model will start training with only %d trainable parameters", 3)
    assert "only 3 trainable parameters" in caplog.text
    with pytest.warns(UserWarning, match="careful"):
        rank_zero_warn("careful")


def test_multi_device_strategies_are_parallel_strategies() -> None:
    from trainer_core.strategies import ParallelStrategy, SingleDeviceStrategy

    trainer = pl.Trainer(accelerator="cpu", devices=2, strategy="ddp_spawn", logger=False,
                         enable_checkpointing=False, enable_progress_bar=False)
    assert isinstance(trainer.strategy, ParallelStrategy)
    assert trainer.strategy.num_processes == 2
    single = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    assert isinstance(single.strategy, SingleDeviceStrategy)
    assert not isinstance(single.strategy, ParallelStrategy)
