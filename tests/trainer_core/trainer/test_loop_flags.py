"""Epoch/step limits, data limits, validation cadence and the sanity check (Lightning 1.5's rules)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, IterableDataset

from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer
from trainer_core import MisconfigurationError


class CountingModel(BoringModel):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.train_steps = 0
        self.val_steps = 0
        self.val_epochs = 0

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        self.train_steps += 1
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        self.val_steps += 1
        return super().validation_step(batch, batch_idx)

    def on_validation_epoch_end(self) -> None:
        if not self.trainer.sanity_checking:
            self.val_epochs += 1


def test_max_steps_stops_mid_epoch_and_counts_match() -> None:
    model = CountingModel()
    trainer = quiet_trainer(max_steps=20, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.global_step == 20
    assert model.train_steps == 20


def test_max_epochs_minus_one_with_max_steps() -> None:
    trainer = quiet_trainer(max_epochs=-1, max_steps=3, limit_val_batches=0)
    trainer.fit(CountingModel())
    assert trainer.global_step == 3


def test_larger_max_steps_runs_all_epochs() -> None:
    trainer = quiet_trainer(max_epochs=2, max_steps=1000, limit_train_batches=5, limit_val_batches=0)
    trainer.fit(CountingModel())
    assert trainer.global_step == 10
    assert trainer.current_epoch == 2  # 2.x counter: epochs run


def test_default_max_epochs_is_1000_and_min_epochs_1() -> None:
    trainer = quiet_trainer()
    assert trainer.max_epochs == 1000 and trainer.min_epochs == 1
    assert quiet_trainer(max_steps=5).max_epochs == -1


@pytest.mark.parametrize(("limit", "expected"), [(0.5, 32), (1.0, 64), (10, 10), (1, 1), (0.0, 0), (0, 0)])
def test_limit_train_batches_int_vs_float(limit: float, expected: int) -> None:
    model = CountingModel()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=limit, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.num_training_batches == expected
    assert model.train_steps == expected


def test_limit_eval_fraction_that_floors_to_zero_is_an_error() -> None:
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0.001, limit_train_batches=2)
    with pytest.raises(MisconfigurationError, match="limit_val_batches"):
        trainer.fit(CountingModel())


@pytest.mark.parametrize("value", [-1, 1.5, "x"])
def test_bad_limits_rejected_in_constructor(value: Any) -> None:
    with pytest.raises(MisconfigurationError, match="limit_train_batches"):
        quiet_trainer(limit_train_batches=value)


class Endless(IterableDataset):
    def __iter__(self):
        generator = torch.Generator().manual_seed(0)
        while True:
            yield torch.randn(32, generator=generator)


def test_infinite_loader_only_accepts_full_or_int_limits() -> None:
    model = CountingModel()
    model.train_dataloader = lambda: DataLoader(Endless(), batch_size=4)  # type: ignore[method-assign]
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=0.5, limit_val_batches=0)
    with pytest.raises(MisconfigurationError, match="no length"):
        trainer.fit(model)
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=7, limit_val_batches=0)
    trainer.fit(model)
    assert model.train_steps == 7


@pytest.mark.parametrize(("denominator", "max_epochs"), [(1, 1), (3, 2), (4, 3)])
def test_val_check_interval_fraction(denominator: int, max_epochs: int) -> None:
    model = CountingModel()
    trainer = quiet_trainer(max_epochs=max_epochs, val_check_interval=1 / denominator, num_sanity_val_steps=0,
                            limit_val_batches=2, limit_train_batches=12)
    trainer.fit(model)
    assert model.val_epochs == max_epochs * denominator


def test_val_check_interval_0_3_of_10_batches() -> None:
    seen: list[int] = []

    class Model(CountingModel):
        def on_validation_start(self) -> None:
            seen.append(self.trainer.batch_idx)

    trainer = quiet_trainer(max_epochs=1, val_check_interval=0.3, limit_train_batches=10, limit_val_batches=1,
                            num_sanity_val_steps=0)
    trainer.fit(Model())
    assert [b + 1 for b in seen] == [3, 6, 9]


def test_val_check_interval_int() -> None:
    model = CountingModel()
    trainer = quiet_trainer(max_epochs=1, val_check_interval=4, limit_train_batches=10, limit_val_batches=1,
                            num_sanity_val_steps=0)
    trainer.fit(model)
    assert model.val_epochs == 2
    with pytest.raises(MisconfigurationError, match="val_check_interval=20"):
        quiet_trainer(max_epochs=1, val_check_interval=20, limit_train_batches=10).fit(CountingModel())


@pytest.mark.parametrize(("max_epochs", "runs"), [(1, 0), (4, 2), (5, 2)])
def test_check_val_every_n_epoch(max_epochs: int, runs: int) -> None:
    model = CountingModel()
    trainer = quiet_trainer(max_epochs=max_epochs, check_val_every_n_epoch=2, limit_val_batches=2,
                            num_sanity_val_steps=0, limit_train_batches=2)
    trainer.fit(model)
    assert model.val_epochs == runs


@pytest.mark.parametrize("limit_val", [0, 1, 1.0, 0.5, 5])
def test_num_sanity_val_steps(limit_val: float) -> None:
    model = CountingModel(batch_size=8)  # 8 val batches
    trainer = quiet_trainer(max_epochs=1, num_sanity_val_steps=4, limit_val_batches=limit_val, max_steps=0)
    trainer.fit(model)
    expected = 0 if limit_val == 0 else min(4, trainer.num_val_batches[0])
    assert model.val_steps == expected
    assert all(n >= 0 for n in trainer.num_sanity_val_batches)


def test_num_sanity_val_steps_minus_one_runs_all() -> None:
    model = CountingModel(batch_size=8)
    trainer = quiet_trainer(max_epochs=1, num_sanity_val_steps=-1, limit_train_batches=0)
    trainer.fit(model)
    assert model.val_steps == 8


def test_sanity_check_metrics_are_discarded() -> None:
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=0, num_sanity_val_steps=2)
    trainer.fit(CountingModel(batch_size=8))
    assert "val_loss" not in trainer.callback_metrics


def test_min_epochs_defers_a_stop_request() -> None:
    class StopEarly(CountingModel):
        def on_train_epoch_end(self) -> None:
            self.trainer.should_stop = True

    trainer = quiet_trainer(max_epochs=10, min_epochs=3, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(StopEarly())
    assert trainer.current_epoch == 3


def test_min_steps_defers_a_stop_request() -> None:
    class StopEarly(CountingModel):
        def on_train_epoch_end(self) -> None:
            self.trainer.should_stop = True

    trainer = quiet_trainer(max_epochs=10, min_steps=7, limit_train_batches=2, limit_val_batches=0)
    trainer.fit(StopEarly())
    assert trainer.global_step == 8  # the epoch in which step 7 falls completes


def test_on_train_batch_start_minus_one_skips_rest_of_epoch() -> None:
    class Skip(CountingModel):
        def on_train_batch_start(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> Any:
            return -1 if batch_idx == 3 else None

    model = Skip()
    trainer = quiet_trainer(max_epochs=2, limit_val_batches=0, limit_train_batches=10)
    trainer.fit(model)
    assert model.train_steps == 6


def test_training_step_returning_none_skips_the_update() -> None:
    class NoUpdate(CountingModel):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            return None

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=0.1)

    model = NoUpdate()
    before = [p.detach().clone() for p in model.parameters()]
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(model)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert trainer.global_step == 0


def test_unknown_and_misspelled_flags_suggest_the_real_name() -> None:
    with pytest.raises(MisconfigurationError, match="val_check_interval"):
        quiet_trainer(check_val_interval=0.5)
    with pytest.raises(MisconfigurationError, match="check_val_every_n_epoch"):
        quiet_trainer(check_val_every_n_epochs=2)


def test_two_spellings_of_one_setting_is_an_error() -> None:
    with pytest.raises(MisconfigurationError, match="enable_progress_bar.*progress_bar_refresh_rate|"
                                                    "progress_bar_refresh_rate.*enable_progress_bar"):
        quiet_trainer(progress_bar_refresh_rate=1)  # quiet_trainer passes enable_progress_bar too


def test_dataloaders_passed_to_fit_win_over_the_module() -> None:
    model = CountingModel()
    loader = DataLoader(RandomDataset(32, 12), batch_size=4)
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0)
    trainer.fit(model, train_dataloaders=loader)
    assert model.train_steps == 3


def test_missing_training_data_is_a_clear_error() -> None:
    class NoData(CountingModel):
        pass

    model = NoData()
    del_attr = type(model).__mro__[1]
    trainer = quiet_trainer(max_epochs=1)
    model.train_dataloader = lambda: None  # type: ignore[method-assign]
    with pytest.raises(MisconfigurationError, match="No training data"):
        trainer.fit(model)
    assert del_attr is CountingModel
