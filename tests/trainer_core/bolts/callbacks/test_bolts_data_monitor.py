"""Data monitors: the tags and values they log, only on logging steps, and a known histogram end to end."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from tests.trainer_core.bolts.callbacks.bolts_fixtures import trainer_with_recorder
from trainer_core.bolts.callbacks import ModuleDataMonitor, TrainingDataMonitor


class TwoLayers(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(2, 3)
        self.second = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.second(self.first(x))


def test_training_data_monitor_names_batch_parts_and_logs_every_n_steps() -> None:
    monitor = TrainingDataMonitor(log_every_n_steps=2)
    trainer, experiment = trainer_with_recorder()
    monitor.on_train_start(trainer, None)
    batch = (torch.arange(4.0), {"mask": torch.ones(2)})
    for step in range(4):
        trainer.global_step = step
        monitor.on_train_batch_start(trainer, None, batch, step)
        monitor.on_train_batch_end(trainer, None, None, batch, step)
    tags = [(tag, step) for _method, tag, _value, step in experiment.calls]
    assert tags == [("training_step/0", 0), ("training_step/1/mask", 0), ("training_step/0", 2),
                    ("training_step/1/mask", 2)]
    assert torch.equal(experiment.calls[0][2], torch.arange(4.0))


def test_module_data_monitor_hooks_the_named_submodules_on_logging_steps_only() -> None:
    model = TwoLayers()
    monitor = ModuleDataMonitor(submodules=["first"], log_every_n_steps=3)
    trainer, experiment = trainer_with_recorder(log_every_n_steps=3)
    monitor.on_train_start(trainer, model)
    x = torch.tensor([[1.0, -1.0]])
    for step in (0, 1):
        trainer.global_step = step
        monitor.on_train_batch_start(trainer, model, x, step)
        model(x)
        monitor.on_train_batch_end(trainer, model, None, x, step)
    model(x)  # a forward outside a training batch (validation) is not logged
    assert [(tag, step) for _m, tag, _v, step in experiment.calls] == [("input/first", 0), ("output/first", 0)]
    assert torch.equal(experiment.calls[0][2], x)
    assert torch.allclose(experiment.calls[1][2], model.first(x))
    monitor.on_train_end(trainer, model)
    assert not model.first._forward_hooks, "hooks are removed when training ends"


def test_module_data_monitor_submodule_choices() -> None:
    model = TwoLayers()
    assert ModuleDataMonitor()._get_submodule_names(model) == [""]
    assert ModuleDataMonitor(submodules=True)._get_submodule_names(model) == ["", "first", "second"]
    trainer, _ = trainer_with_recorder()
    with pytest.raises(ValueError, match="no submodule 'third'.*first, second"):
        ModuleDataMonitor(submodules=["third"]).on_train_start(trainer, model)


class ConstantInput(BoringModel):
    """Feeds the layer a known batch so the logged input histogram is known exactly."""

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        known = torch.arange(32.0).repeat(2, 1)  # values 0..31, twice
        return {"loss": self.loss(self(known))}


def test_a_known_histogram_reaches_the_run_record(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=4, limit_val_batches=0,
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                         callbacks=[ModuleDataMonitor(submodules=["layer"], log_every_n_steps=2)])
    trainer.fit(ConstantInput(batch_size=2))
    with open(os.path.join(trainer.log_dir, "events.jsonl"), encoding="utf-8") as handle:
        events = [json.loads(line) for line in handle]
    inputs = [e for e in events if e["type"] == "histogram" and e["tag"] == "input/layer"]
    assert [e["step"] for e in inputs] == [0, 2]
    first = inputs[0]
    assert (first["min"], first["max"], first["num"], first["sum"]) == (0.0, 31.0, 64, 2 * sum(range(32)))
    assert len(first["counts"]) == 30 and sum(first["counts"]) == 64
    assert {e["tag"] for e in events if e["type"] == "histogram"} == {"input/layer", "output/layer"}


def test_a_second_forward_in_the_same_step_is_not_logged_again() -> None:
    model = TwoLayers()
    monitor = ModuleDataMonitor(submodules=["first"], log_every_n_steps=1)
    trainer, experiment = trainer_with_recorder()
    monitor.on_train_start(trainer, model)
    monitor.on_train_batch_start(trainer, model, None, 0)
    model(torch.ones(1, 2))
    model(torch.zeros(5, 2))  # e.g. generating samples inside training_step
    assert [tag for _m, tag, _v, _s in experiment.calls] == ["input/first", "output/first"]
    assert experiment.calls[0][2].shape == (1, 2)
