"""torchmetrics Metric and MetricCollection objects in self.log / self.log_dict (issue 15, Logging)."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer
from tests.helpers.list_logger import ListLogger

torchmetrics = pytest.importorskip("torchmetrics", reason="torchmetrics is a main dependency; missing install")


class TrainMetric(BoringModel):
    """Adds batch_idx + 1 per training batch: forward gives the batch's value, compute() the epoch's sum."""

    def __init__(self) -> None:
        super().__init__(batch_size=4)
        self.seen = torchmetrics.SumMetric()

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        self.seen(torch.tensor(float(batch_idx + 1)))
        self.log("seen", self.seen, on_step=True, on_epoch=True, prog_bar=True)
        return super().training_step(batch, batch_idx)


def test_metric_logs_forward_per_step_and_compute_per_epoch_then_resets() -> None:
    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=0, logger=logger,
                            log_every_n_steps=1)
    model = TrainMetric()
    trainer.fit(model)
    assert logger.series("seen_step") == [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    assert logger.series("seen_epoch") == [6.0, 6.0]  # reset between epochs: not 6 then 12
    assert float(trainer.callback_metrics["seen"]) == 6.0
    assert trainer.progress_bar_metrics["seen_epoch"] == 6.0
    assert model.seen.update_count == 0  # reset after the epoch's logging


class ValMetric(BoringModel):
    """Counts the validation batches it updated with (update() only, no forward)."""

    def __init__(self) -> None:
        super().__init__(batch_size=4)
        self.batches = torchmetrics.SumMetric()

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.batches.update(torch.tensor(1.0))
        self.log("val_batches", self.batches)


def test_validation_metric_is_reset_per_run_and_the_sanity_check_does_not_count() -> None:
    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=3, num_sanity_val_steps=2,
                            logger=logger)
    trainer.fit(ValMetric())
    assert logger.series("val_batches") == [3.0, 3.0]


def test_test_results_hold_the_computed_value() -> None:
    class TestMetric(BoringModel):
        def __init__(self) -> None:
            super().__init__(batch_size=4)
            self.mean = torchmetrics.MeanMetric()

        def test_step(self, batch: Any, batch_idx: int) -> None:
            self.mean.update(torch.tensor(float(batch_idx)))
            self.log("test_mean", self.mean)

    result = quiet_trainer(limit_test_batches=5).test(TestMetric(), verbose=False)
    assert result == [{"test_mean": pytest.approx(2.0)}]


def test_metric_collection_in_log_dict_and_under_one_name() -> None:
    class WithCollection(BoringModel):
        def __init__(self) -> None:
            super().__init__(batch_size=4)
            self.train_metrics = torchmetrics.MetricCollection(
                {"sum": torchmetrics.SumMetric(), "max": torchmetrics.MaxMetric()}, prefix="train_")
            self.val_metrics = torchmetrics.MetricCollection({"sum": torchmetrics.SumMetric()})

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.train_metrics(torch.tensor(float(batch_idx + 1)))
            self.log_dict(self.train_metrics, on_step=True, on_epoch=True)
            return super().training_step(batch, batch_idx)

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.val_metrics.update(torch.tensor(2.0))
            self.log("val", self.val_metrics)

    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=2, num_sanity_val_steps=0,
                            logger=logger, log_every_n_steps=1)
    trainer.fit(WithCollection())
    assert logger.series("train_sum_step") == [1.0, 2.0, 3.0]
    assert logger.series("train_max_step") == [1.0, 2.0, 3.0]
    assert logger.series("train_sum_epoch") == [6.0]
    assert logger.series("train_max_epoch") == [3.0]
    assert logger.series("val/sum") == [4.0]
    assert float(trainer.callback_metrics["train_sum"]) == 6.0
    assert float(trainer.callback_metrics["val"]["sum"]) == 4.0


def test_logging_a_metric_adds_no_item_calls_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    class Mean(BoringModel):
        def __init__(self, use_metric: bool) -> None:
            super().__init__(batch_size=2)
            self.use_metric = use_metric
            self.mean = torchmetrics.MeanMetric()

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            out = super().training_step(batch, batch_idx)
            if self.use_metric:
                self.mean(out["loss"].detach())
                self.log("mean", self.mean, on_step=True, on_epoch=True)
            return out

    counts = []
    original_item = torch.Tensor.item
    for use_metric in (False, True):
        calls = {"count": 0}

        def counting_item(self: torch.Tensor, calls: dict[str, int] = calls) -> Any:
            calls["count"] += 1
            return original_item(self)

        monkeypatch.setattr(torch.Tensor, "item", counting_item)
        trainer = quiet_trainer(max_epochs=1, limit_train_batches=20, limit_val_batches=0, log_every_n_steps=10,
                                logger=ListLogger())
        # The run's event recorder reads the metrics on a wall-clock cadence, not per step: left out here.
        trainer.callbacks = [cb for cb in trainer.callbacks if type(cb).__name__ != "EventRecorder"]
        trainer.fit(Mean(use_metric))
        counts.append(calls["count"])
    assert counts[1] == counts[0]  # values leave the device only at logging steps, batched (no .item())
