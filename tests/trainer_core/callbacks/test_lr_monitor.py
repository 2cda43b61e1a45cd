"""LearningRateMonitor names and values (Lightning 1.5 names), on a fake trainer with real optimizers."""

from __future__ import annotations

import pytest
import torch
from helpers.fake_trainer import FakeLogger, FakeTrainer

from trainer_core.callbacks import LearningRateMonitor
from trainer_core.exceptions import MisconfigurationError


def scheduler_config(scheduler, interval: str = "epoch", name: str | None = None) -> dict:
    return {"scheduler": scheduler, "interval": interval, "frequency": 1, "monitor": None, "name": name}


def make_trainer(optimizers, schedulers, **kwargs) -> tuple[FakeTrainer, FakeLogger]:
    logger = FakeLogger()
    trainer = FakeTrainer(loggers=[logger], optimizers=optimizers, lr_schedulers=schedulers, **kwargs)
    return trainer, logger


def test_step_lr_epoch_values() -> None:
    layer = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    trainer, logger = make_trainer([opt], [scheduler_config(sched)])
    monitor = LearningRateMonitor()
    monitor.on_train_start(trainer, None)
    for epoch in range(3):
        trainer.current_epoch, trainer.global_step = epoch, epoch * 4
        monitor.on_train_epoch_start(trainer, None)
        monitor.on_train_batch_start(trainer, None, None, 0)  # epoch interval: nothing at steps
        opt.step()
        sched.step()
    assert monitor.lrs == {"lr-SGD": pytest.approx([0.1, 0.05, 0.025])}
    assert logger.logged == [({"lr-SGD": pytest.approx(0.1)}, 0), ({"lr-SGD": pytest.approx(0.05)}, 4),
                             ({"lr-SGD": pytest.approx(0.025)}, 8)]
    assert [step for _, _, step in trainer.telemetry] == [0, 4, 8]


def test_names_param_groups_duplicates_and_momentum() -> None:
    a, b, c = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    adam = torch.optim.Adam([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.5}], lr=0.01)
    adam2 = torch.optim.Adam(c.parameters(), lr=0.02, betas=(0.8, 0.9))
    sgd = torch.optim.SGD(c.parameters(), lr=0.3, momentum=0.7)
    named = torch.optim.lr_scheduler.StepLR(sgd, step_size=1)
    trainer, logger = make_trainer(
        [adam, adam2, sgd],
        [scheduler_config(torch.optim.lr_scheduler.StepLR(adam, 1), interval="step"),
         scheduler_config(named, name="my-sgd")],
        log_every_n_steps=1,
    )
    monitor = LearningRateMonitor(logging_interval="step", log_momentum=True)
    monitor.on_train_start(trainer, None)
    monitor.on_train_batch_start(trainer, None, None, 0)
    metrics, step = logger.logged[-1]
    assert step == 0
    assert metrics == pytest.approx({
        "lr-Adam/pg1": 0.01, "lr-Adam/pg1-momentum": 0.9,
        "lr-Adam/pg2": 0.5, "lr-Adam/pg2-momentum": 0.9,
        "my-sgd": 0.3, "my-sgd-momentum": 0.7,
        "lr-Adam-1": 0.02, "lr-Adam-1-momentum": 0.8,  # optimizer without a scheduler, second Adam
    })


def test_step_interval_follows_log_every_n_steps_once_per_step() -> None:
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    trainer, logger = make_trainer([opt], [scheduler_config(sched, interval="step")], log_every_n_steps=2)
    monitor = LearningRateMonitor()
    monitor.on_train_start(trainer, None)
    monitor.on_train_epoch_start(trainer, None)  # a step-interval scheduler is not logged at epoch start
    for batch_idx in range(8):
        trainer.global_step = batch_idx // 2  # accumulate_grad_batches=2
        monitor.on_train_batch_start(trainer, None, None, batch_idx)
    assert [step for _, step in logger.logged] == [1, 3]


def test_epoch_interval_logs_step_schedulers_at_epoch_start() -> None:
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    trainer, logger = make_trainer([opt], [scheduler_config(sched, interval="step")], log_every_n_steps=1)
    monitor = LearningRateMonitor(logging_interval="epoch")
    monitor.on_train_start(trainer, None)
    monitor.on_train_batch_start(trainer, None, None, 0)
    assert logger.logged == []
    monitor.on_train_epoch_start(trainer, None)
    assert logger.logged == [({"lr-SGD": pytest.approx(0.1)}, 0)]


def test_errors() -> None:
    with pytest.raises(MisconfigurationError, match="logging_interval"):
        LearningRateMonitor(logging_interval="batch")
    with pytest.raises(MisconfigurationError, match="no(ne)? logger|has none"):
        LearningRateMonitor().on_train_start(FakeTrainer(), None)
