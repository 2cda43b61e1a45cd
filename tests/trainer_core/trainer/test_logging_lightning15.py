"""self.log as Lightning 1.5 behaves where real scripts notice (issue 14, logging items 14-24)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader

from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer
from tests.helpers.list_logger import ListLogger
from trainer_core import Callback, MisconfigurationError


def test_test_results_hold_plain_and_epoch_keys_of_a_forked_metric() -> None:
    class Forked(BoringModel):
        def test_step(self, batch: Any, batch_idx: int) -> None:
            self.log("t", float(batch_idx), on_step=True, on_epoch=True)

    result = quiet_trainer(limit_test_batches=3).test(Forked(batch_size=4), verbose=False)
    assert result[0]["t"] == pytest.approx(1.0)
    assert result[0]["t_epoch"] == pytest.approx(1.0)
    assert "t_step" not in result[0]


def test_add_dataloader_idx_false_keys_appear_only_where_logged() -> None:
    class TwoLoaders(BoringModel):
        def test_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
            self.log(f"only_{dataloader_idx}", 1.0 + dataloader_idx, add_dataloader_idx=False)
            self.log("shared", 5.0)

        def test_dataloader(self) -> Any:
            return [DataLoader(RandomDataset(32, 4), batch_size=2), DataLoader(RandomDataset(32, 4), batch_size=2)]

    result = quiet_trainer().test(TwoLoaders(), verbose=False)
    assert result == [{"only_0": 1.0, "shared/dataloader_idx_0": 5.0}, {"only_1": 2.0, "shared/dataloader_idx_1": 5.0}]


def test_on_step_in_validation_logs_name_step_per_evaluation_step() -> None:
    class StepVal(BoringModel):
        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("v", float(batch_idx), on_step=True, on_epoch=True)

    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=3, logger=logger,
                            num_sanity_val_steps=0)
    trainer.fit(StepVal(batch_size=4))
    step_rows = [(step, row["v_step"]) for step, row in logger.rows if "v_step" in row]
    # One row per evaluation batch, on a counter of evaluation steps that runs on across validation runs.
    assert step_rows == [(0, 0.0), (1, 1.0), (2, 2.0), (3, 0.0), (4, 1.0), (5, 2.0)]
    assert [row["v_epoch"] for _, row in logger.rows if "v_epoch" in row] == [1.0, 1.0]
    assert "v_step" not in trainer.callback_metrics  # outside training the _step form stays out of callback metrics


def test_a_dict_of_values_under_one_name() -> None:
    class DictLog(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.log("pair", {"a": torch.tensor(1.0), "b": 2.0})
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("vpair", {"x": float(batch_idx)})

    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=2, logger=logger,
                            log_every_n_steps=1, num_sanity_val_steps=0)
    trainer.fit(DictLog(batch_size=4))
    assert set(trainer.callback_metrics["pair"]) == {"a", "b"}
    assert float(trainer.callback_metrics["pair"]["b"]) == 2.0
    assert float(trainer.callback_metrics["vpair"]["x"]) == pytest.approx(0.5)
    assert trainer.logged_metrics["pair"] == {"a": 1.0, "b": 2.0}
    assert trainer.logged_metrics["vpair"] == {"x": 0.5}
    assert {"pair/a", "pair/b", "vpair/x"} <= logger.keys()
    assert "pair" not in logger.keys()


def test_a_nested_dict_is_rejected() -> None:
    class Nested(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.log("deep", {"a": {"b": 1.0}})
            return super().training_step(batch, batch_idx)

    with pytest.raises(MisconfigurationError, match="nested"):
        quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0).fit(Nested())


def test_callbacks_can_log() -> None:
    class Logs(Callback):
        def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
            self.log("from_cb", 3.0)

        def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            self.log_dict({"cb_a": 1.0, "cb_b": 2.0})

    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, logger=logger,
                            log_every_n_steps=1, num_sanity_val_steps=0, callbacks=[Logs()])
    trainer.fit(BoringModel())
    assert float(trainer.callback_metrics["from_cb"]) == 3.0
    assert float(trainer.callback_metrics["cb_b"]) == 2.0
    assert {"from_cb", "cb_a", "cb_b"} <= logger.keys()


def test_callback_log_outside_a_run_is_a_clear_error() -> None:
    with pytest.raises(MisconfigurationError, match="attached"):
        Callback().log("x", 1.0)


def test_logged_metrics_have_no_epoch_key_but_loggers_get_it() -> None:
    logger = ListLogger()

    class Logs(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.log("loss_value", 1.0)
            return super().training_step(batch, batch_idx)

    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=1, logger=logger,
                            log_every_n_steps=1, num_sanity_val_steps=0)
    trainer.fit(Logs())
    assert "epoch" not in trainer.logged_metrics
    assert set(trainer.logged_metrics) == {"loss_value", "val_loss"}
    assert all("epoch" in row for _, row in logger.rows)


def test_reduce_fx_avg_is_the_mean() -> None:
    class Avg(BoringModel):
        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("value", float(batch_idx), reduce_fx="avg")

    loader = DataLoader(RandomDataset(32, 12), batch_size=4)
    assert quiet_trainer().validate(Avg(), dataloaders=loader, verbose=False)[0]["value"] == pytest.approx(1.0)


def test_log_in_on_train_start_reaches_the_logger_and_finalize_follows_on_fit_end() -> None:
    events: list[str] = []

    class Order(Callback):
        def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
            events.append("on_fit_end")

    class StartLog(BoringModel):
        def on_train_start(self) -> None:
            self.log("at_start", 7.0)

    logger = ListLogger(events)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0, logger=logger,
                            callbacks=[Order()])
    trainer.fit(StartLog())
    assert [row["at_start"] for _, row in logger.rows if "at_start" in row] == [7.0]
    assert events == ["on_fit_end", "finalize:success"]


def test_prog_bar_key_logged_in_step_and_epoch_end_shows_the_epoch_end_value() -> None:
    class Both(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.log("acc", 0.25, prog_bar=True)
            return super().training_step(batch, batch_idx)

        def training_epoch_end(self, outputs: Any) -> None:
            self.log("acc", 0.75, prog_bar=True)

    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(Both())
    assert trainer.progress_bar_metrics["acc"] == 0.75
    assert float(trainer.callback_metrics["acc"]) == 0.75


def test_on_step_false_and_on_epoch_false_is_a_clear_error() -> None:
    class Nothing(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.log("lost", 1.0, on_step=False, on_epoch=False)
            return super().training_step(batch, batch_idx)

    with pytest.raises(MisconfigurationError, match="on_step=False, on_epoch=False"):
        quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0).fit(Nothing())


def test_fast_dev_run_fills_logged_metrics() -> None:
    class Logs(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            out = super().training_step(batch, batch_idx)
            self.log("train_loss", out["loss"])
            return out

    trainer = quiet_trainer(fast_dev_run=2, logger=True)
    trainer.fit(Logs())
    assert {"train_loss", "val_loss"} <= set(trainer.logged_metrics)
