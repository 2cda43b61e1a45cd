"""The callbacks inside a real ``trainer_core.Trainer`` fit: counts, files and stop epochs as in Lightning 1.5."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import torch
from torch.nn import functional as F  # noqa: N812
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import (
    DeviceStatsMonitor,
    EarlyStopping,
    GradientAccumulationScheduler,
    LearningRateMonitor,
    ModelCheckpoint,
    ProgressBar,
)
from trainer_core.loggers import Logger

QUIET = {"enable_progress_bar": False, "enable_model_summary": False, "num_sanity_val_steps": 0}


class TableModel(pl.LightningModule):
    """Linear regression on random data; ``val_values[epoch]`` replaces the validation loss when given."""

    def __init__(self, train_batches: int = 10, val_values: list[float] | None = None, scheduler: bool = False):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)
        self.train_batches = train_batches
        self.val_values = val_values
        self.scheduler = scheduler
        generator = torch.Generator().manual_seed(0)
        self.x = torch.randn(2 * train_batches, 4, generator=generator)
        self.y = torch.randn(2 * train_batches, 1, generator=generator)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        loss = F.mse_loss(self.layer(x), y)
        value = self.val_values[self.current_epoch] if self.val_values else loss
        self.log("val_loss", value)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", F.mse_loss(self.layer(x), y))

    def forward(self, x):
        return self.layer(x)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        if not self.scheduler:
            return optimizer
        return [optimizer], [torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)]

    def train_dataloader(self):
        return DataLoader(TensorDataset(self.x, self.y), batch_size=2)

    def val_dataloader(self):
        return DataLoader(TensorDataset(self.x[:4], self.y[:4]), batch_size=2)


class RecordingLogger(Logger):
    def __init__(self) -> None:
        self.rows: list[tuple[dict[str, float], int]] = []

    @property
    def name(self) -> str:
        return "recording"

    @property
    def version(self) -> int:
        return 0

    def log_metrics(self, metrics, step=None):
        self.rows.append((dict(metrics), step))

    def log_hyperparams(self, params, *args, **kwargs):
        pass


# --- GradientAccumulationScheduler (tests/callbacks/test_gradient_accumulation_scheduler.py @1.5.0) -----------
@pytest.mark.parametrize(("schedule", "expected"), [({1: 2, 3: 4}, 23), ({0: 2, 2: 1}, 30)])
@pytest.mark.parametrize("as_flag", [True, False])
def test_accumulation_schedule_zero_grad_counts(tmp_path, monkeypatch, schedule, expected, as_flag) -> None:
    calls = []
    original = torch.optim.SGD.zero_grad

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.SGD, "zero_grad", counting)
    if as_flag:
        flags = {"accumulate_grad_batches": schedule}
    else:
        flags = {"callbacks": [GradientAccumulationScheduler(schedule)]}
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=4, limit_val_batches=0, logger=False,
                         enable_checkpointing=False, **QUIET, **flags)
    trainer.fit(TableModel(train_batches=10))
    assert len(calls) == expected  # 10 batches x 4 epochs


# --- EarlyStopping (tests/callbacks/test_early_stopping.py @1.5.0) --------------------------------------------
@pytest.mark.parametrize(
    ("values", "patience", "stop_epoch"),
    [([6, 5, 5, 5, 5, 5], 3, 4), ([6, 5, 4, 4, 3, 3], 1, 3), ([8, 4, 2, 3, 4, 5, 8, 10], 3, 5)],
)
def test_early_stopping_in_fit(tmp_path, values, patience, stop_epoch) -> None:
    es = EarlyStopping(monitor="val_loss", patience=patience)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=len(values), limit_train_batches=2, logger=False,
                         enable_checkpointing=False, callbacks=[es], **QUIET)
    trainer.fit(TableModel(val_values=[float(v) for v in values]))
    assert es.stopped_epoch == stop_epoch
    assert trainer.current_epoch == stop_epoch + 1  # decided: after fit, current_epoch == stopped_epoch + 1


@pytest.mark.parametrize(("min_steps", "min_epochs", "expected_step"), [(12, None, 12), (None, 5, 20)])
def test_min_steps_and_min_epochs_defer_early_stopping(tmp_path, min_steps, min_epochs, expected_step) -> None:
    # Constant val_loss, patience 1: the stop is asked at the end of epoch 1 (step 8), 4 batches per epoch.
    es = EarlyStopping(monitor="val_loss", patience=1)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=50, limit_train_batches=4, logger=False,
                         enable_checkpointing=False, callbacks=[es], min_steps=min_steps, min_epochs=min_epochs,
                         **QUIET)
    trainer.fit(TableModel(val_values=[1.0] * 50))
    assert trainer.global_step == max(min_steps or 0, 8, (min_epochs or 0) * 4) == expected_step


def test_early_stopping_resumes_its_counters(tmp_path) -> None:
    values = [6.0, 5.0, 5.0, 5.0, 5.0, 5.0]

    def make(max_epochs: int) -> tuple[EarlyStopping, pl.Trainer]:
        es = EarlyStopping(monitor="val_loss", patience=3)
        ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", save_last=True)
        return es, pl.Trainer(default_root_dir=tmp_path, max_epochs=max_epochs, limit_train_batches=2, logger=False,
                              callbacks=[es, ckpt], **QUIET)

    es, first = make(3)
    first.fit(TableModel(val_values=values))
    assert es.wait_count == 1 and not first.should_stop
    es, second = make(6)
    second.fit(TableModel(val_values=values), ckpt_path=str(tmp_path / "ck" / "last.ckpt"))
    assert es.stopped_epoch == 4 and second.current_epoch == 5  # as without the interruption


def test_two_early_stopping_callbacks_keep_separate_state(tmp_path) -> None:
    by_val = EarlyStopping(monitor="val_loss", patience=2)
    by_train = EarlyStopping(monitor="train_loss", mode="max", patience=50)
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", save_last=True)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=10, limit_train_batches=2, logger=False,
                         callbacks=[by_val, by_train, ckpt], **QUIET)
    trainer.fit(TableModel(val_values=[3.0, 2.0, 2.0, 2.0] + [1.0] * 6))
    assert by_val.stopped_epoch == 3 and by_train.stopped_epoch == 0
    states = torch.load(tmp_path / "ck" / "last.ckpt", weights_only=True)["callbacks"]
    assert states[by_val.state_key]["wait_count"] == 2
    assert states["EarlyStopping{'monitor': 'train_loss', 'mode': 'max'}"]["patience"] == 50


def test_early_stopping_missing_metric_lists_keys(tmp_path) -> None:
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, limit_train_batches=2, logger=False,
                         enable_checkpointing=False, callbacks=[EarlyStopping(monitor="val_acc")], **QUIET)
    with pytest.raises(RuntimeError, match="val_acc.*train_loss.*val_loss"):
        trainer.fit(TableModel())


# --- ModelCheckpoint (tests/checkpointing/test_model_checkpoint.py @1.5.0) ------------------------------------
@pytest.mark.parametrize(("max_epochs", "name"), [(1, "epoch=0-step=2.ckpt"), (2, "epoch=1-step=4.ckpt")])
def test_default_checkpoint_in_log_dir(tmp_path, max_epochs, name) -> None:
    # decided: epoch = the epoch in which it was saved, step = optimizer steps done
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=max_epochs, limit_train_batches=2, **QUIET)
    trainer.fit(TableModel())
    folder = tmp_path / "lightning_logs" / "version_0" / "checkpoints"
    assert sorted(os.listdir(folder)) == [name]
    assert trainer.checkpoint_callback.best_model_path == str(folder / name)


def test_top_k_save_last_and_state_in_file(tmp_path) -> None:
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", monitor="val_loss", save_top_k=2, save_last=True,
                           filename="{epoch}-{val_loss:.1f}")
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=4, limit_train_batches=2, logger=False,
                         callbacks=[ckpt], **QUIET)
    trainer.fit(TableModel(val_values=[3.0, 1.0, 4.0, 2.0]))
    assert sorted(os.listdir(tmp_path / "ck")) == ["epoch=1-val_loss=1.0.ckpt", "epoch=3-val_loss=2.0.ckpt",
                                                  "last.ckpt"]
    assert float(ckpt.best_model_score) == 1.0
    last = torch.load(tmp_path / "ck" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 8
    state = last["callbacks"][ckpt.state_key]
    assert state["best_model_path"] == str(tmp_path / "ck" / "epoch=1-val_loss=1.0.ckpt")


def test_every_n_train_steps_in_fit(tmp_path) -> None:
    ckpt = ModelCheckpoint(dirpath=tmp_path, every_n_train_steps=3, save_top_k=-1)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, limit_train_batches=4, logger=False,
                         callbacks=[ckpt], **QUIET)
    trainer.fit(TableModel())
    assert sorted(os.listdir(tmp_path)) == ["epoch=0-step=3.ckpt", "epoch=1-step=6.ckpt"]


def test_every_n_epochs_in_fit(tmp_path) -> None:
    ckpt = ModelCheckpoint(dirpath=tmp_path, every_n_epochs=2, save_top_k=-1)
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=5, limit_train_batches=1, logger=False,
                         callbacks=[ckpt], **QUIET)
    trainer.fit(TableModel())
    assert sorted(os.listdir(tmp_path)) == ["epoch=1-step=2.ckpt", "epoch=3-step=4.ckpt"]


def test_monitor_typo_lists_metrics(tmp_path) -> None:
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=2, logger=False,
                         callbacks=[ModelCheckpoint(dirpath=tmp_path, monitor="val_los")], **QUIET)
    with pytest.raises(pl.MisconfigurationError, match="val_los.*train_loss.*val_loss"):
        trainer.fit(TableModel())


def test_fast_dev_run_writes_no_checkpoint(tmp_path) -> None:
    ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", save_last=True)
    trainer = pl.Trainer(default_root_dir=tmp_path, fast_dev_run=2, callbacks=[ckpt], **QUIET)
    trainer.fit(TableModel())
    assert not (tmp_path / "ck").exists()


def test_resume_keeps_top_k(tmp_path) -> None:
    def make(max_epochs):
        ckpt = ModelCheckpoint(dirpath=tmp_path / "ck", monitor="val_loss", save_top_k=2, save_last=True,
                               filename="{epoch}")
        return ckpt, pl.Trainer(default_root_dir=tmp_path, max_epochs=max_epochs, limit_train_batches=2,
                                logger=False, callbacks=[ckpt], **QUIET)

    values = [3.0, 2.0, 1.0, 5.0]
    _, first = make(2)
    first.fit(TableModel(val_values=values))
    ckpt, second = make(4)
    second.fit(TableModel(val_values=values), ckpt_path=str(tmp_path / "ck" / "last.ckpt"))
    assert sorted(os.listdir(tmp_path / "ck")) == ["epoch=1.ckpt", "epoch=2.ckpt", "last.ckpt"]
    assert float(ckpt.best_model_score) == 1.0


# --- LearningRateMonitor -------------------------------------------------------------------------------------
def test_lr_monitor_with_step_lr(tmp_path) -> None:
    logger = RecordingLogger()
    monitor = LearningRateMonitor()
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=3, limit_train_batches=2, limit_val_batches=0,
                         logger=logger, enable_checkpointing=False, callbacks=[monitor], **QUIET)
    trainer.fit(TableModel(scheduler=True))
    assert monitor.lrs == {"lr-SGD": pytest.approx([0.1, 0.01, 0.001])}
    rows = [(m["lr-SGD"], step) for m, step in logger.rows if "lr-SGD" in m]
    assert rows == [(pytest.approx(0.1), 0), (pytest.approx(0.01), 2), (pytest.approx(0.001), 4)]


# --- Timer / max_time ----------------------------------------------------------------------------------------
def test_max_time_stops_after_first_step(tmp_path) -> None:
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=5, limit_train_batches=4, logger=False,
                         enable_checkpointing=False, max_time=timedelta(0), **QUIET)
    trainer.fit(TableModel())
    assert trainer.global_step == 1


# --- ProgressBar ---------------------------------------------------------------------------------------------
def test_progress_bar_in_fit(tmp_path, capsys) -> None:
    bar = ProgressBar(refresh_rate=2)
    flags = {**QUIET, "enable_progress_bar": True, "num_sanity_val_steps": 2}
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=2, limit_train_batches=4, logger=False,
                         enable_checkpointing=False, callbacks=[bar], **flags)
    trainer.fit(TableModel())
    out = capsys.readouterr().out
    assert "Validation sanity check" in out and "Validating" in out
    assert "Epoch 1" in out and "6/6" in out  # 4 train + 2 val batches
    assert re.search(r"train_loss=\d", out) and re.search(r"[ ,]loss=\d", out)


def test_progress_bars_for_validate_test_predict(tmp_path, capsys) -> None:
    model = TableModel()
    loader = model.val_dataloader()  # 2 batches
    trainer = pl.Trainer(default_root_dir=tmp_path, logger=False, enable_checkpointing=False,
                         **{**QUIET, "enable_progress_bar": True})
    trainer.validate(model, dataloaders=loader, verbose=False)
    trainer.test(model, dataloaders=loader, verbose=False)
    predictions = trainer.predict(model, dataloaders=DataLoader(TensorDataset(model.x[:4]), batch_size=2))
    assert len(predictions) == 2
    out = capsys.readouterr().out
    for name in ("Validating", "Testing", "Predicting"):
        assert re.search(name + r".*2/2", out), name


# --- DeviceStatsMonitor --------------------------------------------------------------------------------------
def test_device_stats_in_fit(tmp_path) -> None:
    logger = RecordingLogger()
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=4, limit_val_batches=0,
                         logger=logger, log_every_n_steps=2, enable_checkpointing=False,
                         callbacks=[DeviceStatsMonitor()], **QUIET)
    trainer.fit(TableModel())
    steps = [step for metrics, step in logger.rows if "on_train_batch_start/cpu_percent" in metrics]
    assert steps == [1, 3]
