"""self.log semantics: defaults per hook, forking into _step/_epoch, weighted means, logger steps (as 1.5)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader

from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer
from tests.helpers.list_logger import ListLogger
from trainer_core import MisconfigurationError


class LoggingModel(BoringModel):
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        out = super().training_step(batch, batch_idx)
        self.log("a", out["loss"], on_step=True, on_epoch=True, prog_bar=True)
        self.log("b", 1.0)
        return out


def test_forking_and_callback_metrics() -> None:
    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=4, limit_val_batches=2, logger=logger,
                            log_every_n_steps=1, num_sanity_val_steps=0)
    trainer.fit(LoggingModel(batch_size=4))
    step_rows = [m for _, m in logger.rows if "a_step" in m]
    assert len(step_rows) == 4
    assert all("a_epoch" not in m and "b" in m for m in step_rows)
    epoch_rows = [m for _, m in logger.rows if "a_epoch" in m]
    assert len(epoch_rows) == 1
    assert {"a", "a_epoch", "a_step", "b", "val_loss"} <= set(trainer.callback_metrics)
    assert trainer.callback_metrics["a"] == trainer.callback_metrics["a_epoch"]
    assert "a_epoch" in trainer.progress_bar_metrics and "a_step" in trainer.progress_bar_metrics
    assert all(isinstance(v, float) for v in trainer.progress_bar_metrics.values())


@pytest.mark.parametrize("every", [1, 2, 3])
def test_logger_steps_follow_log_every_n_steps(every: int) -> None:
    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=10, limit_val_batches=0, logger=logger,
                            log_every_n_steps=every)
    trainer.fit(LoggingModel(batch_size=4))
    steps = [step for step, m in logger.rows if "a_step" in m]
    assert steps == [s - 1 for s in range(every, 11, every)]
    assert all(m["epoch"] == 0 for _, m in logger.rows)


def test_epoch_mean_is_weighted_by_batch_size() -> None:
    class Weighted(BoringModel):
        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("value", float(batch.shape[0]))  # mean over samples = sum(n^2) / sum(n)

    model = Weighted()
    loader = DataLoader(RandomDataset(32, 10), batch_size=4)  # batches of 4, 4, 2
    result = quiet_trainer().validate(model, dataloaders=loader, verbose=False)
    assert result[0]["value"] == pytest.approx((16 + 16 + 4) / 10)


@pytest.mark.parametrize(("reduce", "expected"), [("sum", 10.0), ("max", 4.0), ("min", 2.0)])
def test_reduce_fx(reduce: str, expected: float) -> None:
    class Reduced(BoringModel):
        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("value", float(batch.shape[0]), reduce_fx=reduce)

    loader = DataLoader(RandomDataset(32, 10), batch_size=4)
    assert quiet_trainer().validate(Reduced(), dataloaders=loader, verbose=False)[0]["value"] == expected


def test_explicit_batch_size() -> None:
    class Explicit(BoringModel):
        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self.log("value", float(batch_idx), batch_size=1 if batch_idx == 0 else 3)

    loader = DataLoader(RandomDataset(32, 8), batch_size=4)
    assert quiet_trainer().validate(Explicit(), dataloaders=loader, verbose=False)[0]["value"] == pytest.approx(
        0.75)


@pytest.mark.parametrize("hook", ["setup", "configure_optimizers", "on_fit_start", "train_dataloader"])
def test_logging_in_forbidden_hooks_is_an_error(hook: str) -> None:
    class Forbidden(BoringModel):
        pass

    original = getattr(BoringModel, hook)

    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.log("x", 1.0)
        return original(self, *args, **kwargs)

    setattr(Forbidden, hook, patched)
    with pytest.raises(MisconfigurationError, match=f"not allowed in `{hook}`"):
        quiet_trainer(max_epochs=1, limit_train_batches=1).fit(Forbidden())


def test_on_step_in_epoch_end_is_an_error() -> None:
    class Bad(BoringModel):
        def on_train_epoch_end(self) -> None:
            self.log("x", 1.0, on_step=True)

    with pytest.raises(MisconfigurationError, match="on_step=True"):
        quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0).fit(Bad())


def test_non_scalar_and_bad_values_are_rejected() -> None:
    class Bad(BoringModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            self.log("vec", torch.ones(3))
            return super().training_step(batch, batch_idx)

    with pytest.raises(MisconfigurationError, match="scalar"):
        quiet_trainer(max_epochs=1, limit_train_batches=1).fit(Bad())


def test_multiple_val_dataloaders_get_suffixes() -> None:
    class Two(BoringModel):
        def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
            self.log("v", float(dataloader_idx))

        def val_dataloader(self) -> Any:
            return [DataLoader(RandomDataset(32, 4), batch_size=2), DataLoader(RandomDataset(32, 4), batch_size=2)]

    result = quiet_trainer().validate(Two(), verbose=False)
    assert result == [{"v/dataloader_idx_0": 0.0}, {"v/dataloader_idx_1": 1.0}]


def test_hparams_reach_the_logger() -> None:
    class WithHparams(BoringModel):
        def __init__(self, hidden: int = 7, lr: float = 0.5) -> None:
            super().__init__()
            self.save_hyperparameters()

    logger = ListLogger()
    quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0, logger=logger).fit(WithHparams(hidden=3))
    assert logger.hparams == {"hidden": 3, "lr": 0.5}


def test_logging_costs_no_host_sync_between_logging_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    conversions = {"count": 0}
    original_item = torch.Tensor.item

    def counting_item(self: torch.Tensor) -> Any:
        conversions["count"] += 1
        return original_item(self)

    logger = ListLogger()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=20, limit_val_batches=0, logger=logger,
                            log_every_n_steps=10)
    trainer.callbacks = [cb for cb in trainer.callbacks if type(cb).__name__ != "EventRecorder"]
    monkeypatch.setattr(torch.Tensor, "item", counting_item)
    trainer.fit(LoggingModel(batch_size=2))
    # Floats come from one batched transfer per logging step, never .item(); the one call is torch's DataLoader
    # drawing its base seed once per epoch.
    assert conversions["count"] <= 1
    assert len([m for _, m in logger.rows if "a_step" in m]) == 2
