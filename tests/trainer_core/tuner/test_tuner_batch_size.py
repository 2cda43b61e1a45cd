"""The batch-size finder through a real Trainer, with a module that runs out of memory above a threshold."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from tests.trainer_core.tuner.tuner_models import OOMOracle, Regressor, Telemetry, quiet, regression_data
from trainer_core.exceptions import MisconfigurationError
from trainer_core.tuner import batch_size as bs


@pytest.mark.parametrize("mode", ["binsearch", "fit"])
@pytest.mark.parametrize("threshold", [37, 300])
def test_binsearch_and_fit_find_the_threshold_exactly(mode: str, threshold: int) -> None:
    model = OOMOracle(threshold)
    trainer = quiet()
    found = trainer.tuner.scale_batch_size(model, mode=mode, max_trials=40)
    assert found == threshold
    assert model.batch_size == threshold
    trials = trainer.tuner.last_trials
    assert max(t.batch_size for t in trials if t.fits) == threshold
    assert any(not t.fits and t.batch_size == threshold + 1 for t in trials)


@pytest.mark.parametrize("threshold,expected", [(37, 32), (300, 256), (2, 2)])
def test_power_finds_the_largest_power_of_two_below(threshold: int, expected: int) -> None:
    model = OOMOracle(threshold)
    trainer = quiet()
    assert trainer.tuner.scale_batch_size(model, mode="power") == expected
    sizes = [t.batch_size for t in trainer.tuner.last_trials]
    assert sizes == [2 ** k for k in range(1, len(sizes) + 1)]
    assert trainer.tuner.last_trials[-1].fits is False


def test_each_trial_runs_steps_per_trial_steps() -> None:
    model = OOMOracle(10)
    trainer = quiet()
    trainer.tuner.scale_batch_size(model, mode="power", steps_per_trial=2, init_val=4)
    # 4 (2 steps), 8 (2 steps), 16 fails on its first step
    assert model.seen == [4, 4, 8, 8, 16]


def test_trials_are_emitted_through_the_callback_api() -> None:
    telemetry = Telemetry()
    model = OOMOracle(20)
    trainer = quiet(callbacks=[telemetry])
    trainer.tuner.scale_batch_size(model, mode="binsearch")
    assert [t["batch_size"] for t in telemetry.trials] == [t.batch_size for t in trainer.tuner.last_trials]
    assert [t["fits"] for t in telemetry.trials][:4] == [True, True, True, True]
    assert telemetry.trials[4] == {**telemetry.trials[4], "batch_size": 32, "fits": False}
    assert all(t["peak_memory"] is None and t["time_s"] >= 0 for t in telemetry.trials)
    # The user's callback saw the telemetry, not the short fits.
    assert telemetry.fit_batches == 0


def test_binsearch_1_5_trial_counting_writes_model_and_datamodule() -> None:
    """@1.5.0: init_val=4, max_trials=2, mode="binsearch", no OOM -> 16, in the model, datamodule and loader."""

    class DataModule(pl.LightningDataModule):
        def __init__(self) -> None:
            super().__init__()
            self.batch_size = 1

        def train_dataloader(self) -> DataLoader:
            return DataLoader(regression_data(1000), batch_size=self.batch_size)

    model, dm = Regressor(), DataModule()
    trainer = quiet()
    found = trainer.tuner.scale_batch_size(model, datamodule=dm, mode="binsearch", init_val=4, max_trials=2)
    assert found == 16
    assert dm.batch_size == 16 and model.batch_size == 16
    assert [t.batch_size for t in trainer.tuner.last_trials] == [4, 8, 16]
    assert dm.train_dataloader().batch_size == 16


def test_datamodule_value_is_read_first_and_all_holders_are_written() -> None:
    class DataModule(pl.LightningDataModule):
        def __init__(self) -> None:
            super().__init__()
            self.batch_size = 8

        def train_dataloader(self) -> DataLoader:
            return DataLoader(regression_data(64), batch_size=self.batch_size)

    class Model(Regressor):
        def __init__(self) -> None:
            super().__init__(batch_size=3)
            self.save_hyperparameters({"batch_size": 5})

    model, dm = Model(), DataModule()
    trainer = quiet()
    trainer.tuner.scale_batch_size(model, datamodule=dm, mode="power", max_trials=1)
    # One trial at init_val; the datamodule's loader used it, and every holder now holds it.
    assert [t.batch_size for t in trainer.tuner.last_trials] == [2]
    assert model.batch_size == model.hparams.batch_size == dm.batch_size == 2


def test_hparams_only_and_custom_attribute_names() -> None:
    class HparamsModel(OOMOracle):
        def __init__(self) -> None:
            super().__init__(threshold=12)
            del self.batch_size
            self.save_hyperparameters({"bs": 2})

        def train_dataloader(self) -> DataLoader:
            self.batch_size = self.hparams.bs  # the loader reads the hparams entry
            return super().train_dataloader()

    model = HparamsModel()
    found = quiet().tuner.scale_batch_size(model, mode="binsearch", batch_arg_name="bs")
    assert found == 12 and model.hparams.bs == 12
    assert "bs" not in vars(model)


def test_missing_attribute_is_a_clear_error() -> None:
    model = OOMOracle(10)
    with pytest.raises(MisconfigurationError, match="found no 'per_device'.*batch_arg_name"):
        quiet().tuner.scale_batch_size(model, batch_arg_name="per_device")


def test_dataloader_passed_directly_is_a_clear_error() -> None:
    loader = DataLoader(regression_data(), batch_size=4)
    with pytest.raises(MisconfigurationError, match="cannot change the batch size of a DataLoader"):
        quiet().tuner.scale_batch_size(Regressor(), train_dataloaders=loader)


@pytest.mark.parametrize("mode", ["power", "binsearch", "fit"])
def test_capped_at_the_dataset_length(mode: str) -> None:
    model = OOMOracle(threshold=10**6, length=50)
    trainer = quiet()
    assert trainer.tuner.scale_batch_size(model, mode=mode) == 50
    assert max(t.batch_size for t in trainer.tuner.last_trials) == 50
    assert model.largest == 50


def test_max_val_and_margin() -> None:
    model = OOMOracle(threshold=10**6)
    assert quiet().tuner.scale_batch_size(model, mode="power", max_val=100) == 100
    model = OOMOracle(threshold=200)
    assert quiet().tuner.scale_batch_size(model, mode="binsearch", margin=0.1) == 180
    assert model.batch_size == 180


def test_non_oom_errors_propagate_and_state_is_restored() -> None:
    model = OOMOracle(threshold=8, error=ValueError)
    trainer = quiet(max_epochs=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="something else broke"):
        trainer.tuner.scale_batch_size(model, mode="power")
    assert trainer.max_epochs == 3 and trainer.max_steps == -1 and trainer.global_step == 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_nothing_fits_is_a_clear_error_and_keeps_the_value() -> None:
    model = OOMOracle(threshold=0, batch_size=7)
    with pytest.raises(MisconfigurationError, match="no batch_size that fits in memory"):
        quiet().tuner.scale_batch_size(model, mode="binsearch", init_val=4)
    assert model.batch_size == 7


def test_weights_and_trainer_state_are_restored() -> None:
    model = Regressor(length=128)
    telemetry = Telemetry()
    trainer = quiet(max_epochs=2, limit_train_batches=3, callbacks=[telemetry])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    callbacks = list(trainer.callbacks)
    rng = torch.get_rng_state()
    trainer.tuner.scale_batch_size(model, mode="power")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    assert trainer.callbacks == callbacks and trainer.limit_train_batches == 3 and trainer.max_epochs == 2
    assert trainer.global_step == 0 and trainer.current_epoch == 0
    assert torch.equal(torch.get_rng_state(), rng)
    assert model.batch_size == 128  # capped at the dataset length
    trainer.fit(model)
    assert trainer.global_step == 2 and telemetry.fit_batches == 2


def test_fast_dev_run_skips_with_a_message(caplog: pytest.LogCaptureFixture) -> None:
    model = OOMOracle(threshold=10)
    trainer = quiet(fast_dev_run=True)
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        assert trainer.tuner.scale_batch_size(model) is None
    assert "Skipping the batch-size finder: fast_dev_run" in caplog.text
    assert model.seen == []


class FakeProbe:
    """Memory statistics from the oracle: peak = a + b * largest batch, budget = room for `threshold` rows."""

    def __init__(self, model: OOMOracle, a: float = 50e6, b: float = 1e6, budget_rows: float | None = None) -> None:
        self.model, self.a, self.b = model, a, b
        self.rows = model.threshold if budget_rows is None else budget_rows

    def reset(self) -> None:
        self.model.largest = 0

    def peak(self) -> int:
        return int(self.a + self.b * self.model.largest)

    def budget(self) -> int:
        return int(self.a + self.b * (self.rows + 0.5))


def _with_probe(monkeypatch: pytest.MonkeyPatch, model: OOMOracle, **kwargs: Any) -> None:
    monkeypatch.setattr(bs, "memory_probe_for", lambda device: FakeProbe(model, **kwargs))


def test_fit_mode_with_memory_statistics_jumps_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    model = OOMOracle(threshold=700)
    _with_probe(monkeypatch, model)
    telemetry = Telemetry()
    trainer = quiet(callbacks=[telemetry])
    found = trainer.tuner.scale_batch_size(model, mode="fit")
    sizes = [t.batch_size for t in trainer.tuner.last_trials]
    assert 0.98 * 700 <= found <= 700
    assert sizes[:4] == [8, 16, 32, 700]
    assert len(sizes) <= 5
    assert telemetry.trials[0]["peak_memory"] == int(50e6 + 1e6 * 8)


def test_fit_mode_tolerance_zero_is_exact_with_a_pessimistic_line(monkeypatch: pytest.MonkeyPatch) -> None:
    model = OOMOracle(threshold=700)
    _with_probe(monkeypatch, model, budget_rows=600)  # the line says 600; 700 really fit
    found = quiet().tuner.scale_batch_size(model, mode="fit", tolerance=0.0)
    assert found == 700


def test_fit_mode_uses_two_steps_per_trial() -> None:
    model = OOMOracle(threshold=9)
    quiet().tuner.scale_batch_size(model, mode="fit", init_val=8)
    assert model.seen[:2] == [8, 8] and model.seen[2] == 16


def test_tune_runs_the_flagged_finder() -> None:
    model = OOMOracle(threshold=40)
    trainer = quiet(auto_scale_batch_size="binsearch")
    result = trainer.tune(model)
    assert result == {"scale_batch_size": 40, "lr_find": None}
    assert trainer.state.stage == "tune" and trainer.state.status == "finished"
    result = quiet(auto_scale_batch_size=True).tune(model, scale_batch_size_kwargs={"max_trials": 3})
    assert result["scale_batch_size"] == 8  # power from init_val=2: trials 2, 4, 8


class StopAt(pl.Callback):
    """Raises KeyboardInterrupt (the studio's Stop) from the tuner's telemetry hooks."""

    def __init__(self, trial: int = 10**9, point: int = 10**9) -> None:
        self.trial, self.point, self.seen = trial, point, 0

    def on_batch_size_trial(self, trainer: Any, pl_module: Any, trial: dict[str, Any]) -> None:
        self.seen += 1
        if self.seen == self.trial:
            raise KeyboardInterrupt("stopped by the user")

    def on_lr_find_point(self, trainer: Any, pl_module: Any, point: dict[str, float]) -> None:
        if point["step"] == self.point:
            raise KeyboardInterrupt("stopped by the user")


def test_stop_during_the_batch_size_finder_ends_tuning_gracefully() -> None:
    from trainer_core.telemetry import EventRecorder

    events: list[dict[str, Any]] = []
    model = OOMOracle(threshold=1000)
    trainer = quiet(callbacks=[StopAt(trial=3), EventRecorder(sink=events.append, write_file=False)],
                    auto_scale_batch_size="binsearch", auto_lr_find=True)
    result = trainer.tune(model)
    assert [t.batch_size for t in trainer.tuner.last_trials] == [2, 4, 8]
    assert result == {"scale_batch_size": 8, "lr_find": None}  # the last size that ran; no LR finder afterwards
    assert trainer.state.status == "interrupted" and model.batch_size == 8
    assert [e["type"] for e in events if e["type"] in ("exception", "stage_finished")] == ["exception",
                                                                                          "stage_finished"]
    assert events[-1]["status"] == "interrupted"


def test_a_loader_that_drops_every_batch_does_not_count_as_fitting() -> None:
    class DropLast(OOMOracle):
        def train_dataloader(self) -> DataLoader:
            loader = super().train_dataloader()
            return DataLoader(loader.dataset, batch_size=self.batch_size, collate_fn=loader.collate_fn,
                              drop_last=True)

    model = DropLast(threshold=10**6, length=100)
    trainer = quiet(limit_train_batches=0.1)  # trials use every batch, whatever the limit says
    assert trainer.tuner.scale_batch_size(model, mode="binsearch") == 100
    assert trainer.limit_train_batches == 0.1
    empty = DropLast(threshold=10**6, length=0)
    with pytest.raises(MisconfigurationError, match="never got a training batch"):
        quiet().tuner.scale_batch_size(empty, mode="power")


@pytest.mark.parametrize("mode", ["power", "fit"])
def test_max_trials_zero_returns_init_val_untried_as_in_1_5(mode: str) -> None:
    model = OOMOracle(threshold=10**6, batch_size=7)
    trainer = quiet()
    assert trainer.tuner.scale_batch_size(model, mode=mode, init_val=4, max_trials=0) == 4
    assert model.batch_size == 4 and model.seen == [] and trainer.tuner.last_trials == []


def test_max_trials_zero_in_binsearch_runs_the_first_trial_as_in_1_5() -> None:
    model = OOMOracle(threshold=10**6)
    trainer = quiet()
    assert trainer.tuner.scale_batch_size(model, mode="binsearch", init_val=4, max_trials=0) == 4
    assert [t.batch_size for t in trainer.tuner.last_trials] == [4]
