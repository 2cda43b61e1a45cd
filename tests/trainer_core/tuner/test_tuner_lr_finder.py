"""The learning-rate finder through a real Trainer: the sweep, restore, repeatability, suggestions, errors."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from tests.trainer_core.tuner.tuner_models import Regressor, Telemetry, quiet, regression_data
from trainer_core.exceptions import MisconfigurationError
from trainer_core.tuner import LRFinder
from trainer_core.tuner.lr_finder import sweep_lrs


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- the sweep --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_candidates_lie_in_range_and_end_at_max_lr(mode: str) -> None:
    torch.manual_seed(0)
    finder = quiet().tuner.lr_find(Regressor(), min_lr=1e-4, max_lr=0.5, num_training=30, mode=mode,
                                   early_stop_threshold=None)
    lrs = finder.results["lr"]
    assert len(lrs) == len(finder.results["loss"]) == len(finder.raw_losses) == 30
    assert lrs[0] == 1e-4 and lrs[-1] == 0.5
    assert all(1e-4 <= lr <= 0.5 for lr in lrs) and lrs == sorted(lrs)
    # The 1.x schedule: step 0 at min_lr, step k >= 1 at fraction (k + 1) / N, so the 1/N point is skipped.
    steps = np.diff(np.log(lrs)) if mode == "exponential" else np.diff(lrs)
    assert np.allclose(steps[1:], steps[1]) and np.isclose(steps[0], 2 * steps[1])
    assert finder.stop_reason == "finished"


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_sweep_follows_the_1x_schedule_exactly(mode: str) -> None:
    lo, hi, n = 1e-6, 0.3, 7
    if mode == "exponential":
        expected = [lo] + [lo * (hi / lo) ** ((k + 1) / n) for k in range(1, n)]
    else:
        expected = [lo] + [lo + (k + 1) / n * (hi - lo) for k in range(1, n)]
    lrs = sweep_lrs(mode, lo, hi, n)
    assert np.allclose(lrs, expected, rtol=1e-12, atol=0) and lrs[-1] == hi


@pytest.mark.parametrize("mode", ["exponential", "linear"])
def test_min_lr_above_max_lr_sweeps_downwards_as_in_1_5(mode: str) -> None:
    torch.manual_seed(0)
    finder = quiet().tuner.lr_find(Regressor(), min_lr=0.1, max_lr=1e-3, num_training=12, mode=mode,
                                   early_stop_threshold=None)
    lrs = finder.results["lr"]
    assert len(lrs) == 12 and lrs[0] == 0.1 and lrs[-1] == 1e-3
    assert lrs == sorted(lrs, reverse=True)


def test_sweep_lrs_single_step() -> None:
    assert sweep_lrs("exponential", 1e-3, 1.0, 1) == [1e-3]


def test_smoothing_is_a_bias_corrected_ema_of_the_step_losses() -> None:
    torch.manual_seed(0)
    finder = quiet().tuner.lr_find(Regressor(), num_training=15, early_stop_threshold=None)
    avg, expected = 0.0, []
    for i, loss in enumerate(finder.raw_losses):
        avg = 0.98 * avg + 0.02 * loss
        expected.append(avg / (1 - 0.98 ** (i + 1)))
    assert np.allclose(finder.results["loss"], expected)


def test_loader_shorter_than_num_training_is_repeated() -> None:
    torch.manual_seed(0)
    model = Regressor(length=64, batch_size=16)  # 4 batches per epoch
    finder = quiet(max_epochs=1).tuner.lr_find(model, num_training=25, early_stop_threshold=None)
    assert len(finder.results["lr"]) == 25 and finder.stop_reason == "finished"


def test_data_that_runs_out_is_reported() -> None:
    class OneShot(Regressor):
        def train_dataloader(self) -> Any:
            loader = DataLoader(regression_data(64), batch_size=16)
            return iter(list(loader))  # a one-pass iterator: the second epoch is empty

    finder = quiet().tuner.lr_find(OneShot(), num_training=20, early_stop_threshold=None)
    assert len(finder.results["lr"]) == 4
    assert finder.stop_reason == "data ran out after 4 steps"
    assert finder.suggestion() is None
    assert "recorded 4 point(s) (data ran out after 4 steps)" in finder.message
    assert "re-iterable loader" in finder.message


def test_divergence_stops_early_and_says_so() -> None:
    torch.manual_seed(0)
    finder = quiet().tuner.lr_find(Regressor(), min_lr=1e-3, max_lr=1e4, num_training=100)
    assert finder.stop_reason.startswith("diverged at step ")
    step = int(finder.stop_reason.rsplit(" ", 1)[1])
    assert len(finder.results["lr"]) == step + 1 < 100


def test_gradient_accumulation_records_one_point_per_optimizer_step() -> None:
    telemetry = Telemetry()
    finder = quiet(accumulate_grad_batches=2, callbacks=[telemetry]).tuner.lr_find(
        Regressor(), num_training=10, early_stop_threshold=None)
    assert len(finder.results["lr"]) == 10
    assert [p["global_step"] for p in telemetry.points] == list(range(1, 11))


def test_validation_and_sanity_check_do_not_run() -> None:
    class Counting(Regressor):
        validations = 0

        def validation_step(self, batch: Any, batch_idx: int) -> Any:
            Counting.validations += 1
            return super().validation_step(batch, batch_idx)

    quiet(val_check_interval=2, num_sanity_val_steps=2).tuner.lr_find(Counting(), num_training=10)
    assert Counting.validations == 0


# --- telemetry ----------------------------------------------------------------------------------------------------


def test_points_are_emitted_live_through_the_callback_api() -> None:
    telemetry = Telemetry()
    trainer = quiet(callbacks=[telemetry])
    finder = trainer.tuner.lr_find(Regressor(), num_training=12, early_stop_threshold=None)
    assert [p["step"] for p in telemetry.points] == list(range(12))
    assert [p["lr"] for p in telemetry.points] == finder.results["lr"]
    assert [p["smoothed_loss"] for p in telemetry.points] == finder.results["loss"]
    assert [p["loss"] for p in telemetry.points] == finder.raw_losses
    # Each point arrived while the short fit ran (right after its optimizer step), not in a batch afterwards.
    assert [p["global_step"] for p in telemetry.points] == list(range(1, 13))
    assert telemetry.fit_batches == 0  # the user's callbacks do not see the short fit itself


def test_event_recorder_gets_lr_find_points() -> None:
    from trainer_core.telemetry import EventRecorder

    events: list[dict[str, Any]] = []
    recorder = EventRecorder(sink=events.append, write_file=False)
    quiet(callbacks=[recorder]).tuner.lr_find(Regressor(), num_training=5, early_stop_threshold=None)
    points = [e for e in events if e["type"] == "lr_find_point"]
    assert [p["step"] for p in points] == [0, 1, 2, 3, 4]
    assert {"lr", "loss", "smoothed_loss"} <= set(points[0])
    # The points sit inside one "tune" stage; the short fit itself is not reported as a stage.
    stages = [(e["type"], e.get("stage")) for e in events if e["type"].startswith("stage_")]
    assert stages == [("stage_started", "tune"), ("stage_finished", "tune")]
    types = [e["type"] for e in events]
    assert types.index("stage_started") < types.index("lr_find_point") < types.index("stage_finished")


def test_tune_stage_reports_a_failure_to_the_callbacks() -> None:
    class Two(Regressor):
        def configure_optimizers(self) -> Any:
            return [torch.optim.SGD(self.parameters(), lr=0.1), torch.optim.Adam(self.parameters())]

    seen: list[str] = []

    class Watch(pl.Callback):
        def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
            seen.append(f"setup:{stage}")

        def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
            seen.append(f"exception:{type(exception).__name__}")

        def teardown(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
            seen.append(f"teardown:{stage}")

    trainer = quiet(callbacks=[Watch()], auto_lr_find=True)
    with pytest.raises(MisconfigurationError):
        trainer.tune(Two())
    assert seen == ["setup:tune", "exception:MisconfigurationError", "teardown:tune"]
    assert trainer.state.stage == "tune" and trainer.state.status == "failed"


# --- restore and repeatability ------------------------------------------------------------------------------------


def test_everything_is_restored() -> None:
    torch.manual_seed(0)
    model = Regressor()
    telemetry = Telemetry()
    trainer = quiet(max_epochs=3, max_steps=50, limit_train_batches=5, callbacks=[telemetry])
    callbacks, loggers = list(trainer.callbacks), list(trainer.loggers)
    weights, rng = _state(model), torch.get_rng_state()
    trainer.tuner.lr_find(model, num_training=20)
    assert _equal(weights, _state(model))
    assert all(p.grad is None for p in model.parameters())
    assert trainer.callbacks == callbacks and trainer.loggers == loggers
    assert (trainer.max_epochs, trainer.max_steps, trainer.limit_train_batches) == (3, 50, 5)
    assert trainer.num_sanity_val_steps == 2 and trainer.limit_val_batches == 1.0
    assert trainer.global_step == 0 and trainer.current_epoch == 0 and not trainer.should_stop
    assert trainer.optimizers == [] and trainer.lr_schedulers == []
    assert trainer.callback_metrics == {}
    assert torch.equal(torch.get_rng_state(), rng)
    assert model.lr == 0.01  # update_attr=False


def test_counters_start_from_zero_after_training_and_are_restored() -> None:
    torch.manual_seed(0)
    model = Regressor()
    trainer = quiet(max_epochs=2)
    trainer.fit(model)
    step, epoch = trainer.global_step, trainer.current_epoch
    optimizer = trainer.optimizers[0]
    optimizer_state = {k: v["momentum_buffer"].clone() for k, v in optimizer.state.items()}
    weights = _state(model)
    finder = trainer.tuner.lr_find(model, num_training=20, early_stop_threshold=None)
    assert len(finder.results["lr"]) == 20  # not "already past num_training" (#4846)
    assert (trainer.global_step, trainer.current_epoch) == (step, epoch)
    assert trainer.optimizers[0] is optimizer
    assert all(torch.equal(optimizer.state[k]["momentum_buffer"], v) for k, v in optimizer_state.items())
    assert _equal(weights, _state(model))


def test_two_calls_give_identical_curves() -> None:
    torch.manual_seed(0)
    model = Regressor()
    trainer = quiet()
    first = trainer.tuner.lr_find(model, num_training=30)
    second = trainer.tuner.lr_find(model, num_training=30)
    assert first.results == second.results and first.stop_reason == second.stop_reason


def test_fit_after_tune_equals_fit_on_a_fresh_model_with_the_suggested_lr() -> None:
    torch.manual_seed(0)
    tuned = Regressor()
    torch.manual_seed(0)
    fresh = Regressor()
    trainer = quiet(max_epochs=2, auto_lr_find=True)
    torch.manual_seed(1)
    out = trainer.tune(tuned, lr_find_kwargs={"num_training": 40, "min_lr": 1e-4})
    suggested = out["lr_find"].suggestion()
    assert suggested is not None and tuned.lr == suggested
    trainer.fit(tuned)

    fresh.lr = suggested
    other = quiet(max_epochs=2)
    torch.manual_seed(1)
    other.fit(fresh)
    assert _equal(_state(tuned), _state(fresh))
    assert trainer.global_step == other.global_step
    assert float(trainer.callback_metrics["train_loss"]) == float(other.callback_metrics["train_loss"])


def test_layers_made_in_setup_are_restored() -> None:
    class SetupModel(Regressor):
        def setup(self, stage: str | None = None) -> None:
            if not hasattr(self, "head"):
                self.head = torch.nn.Linear(1, 1)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            return torch.nn.functional.mse_loss(self.head(self.net(x)), y)

    torch.manual_seed(0)
    model = SetupModel()
    quiet().tuner.lr_find(model, num_training=10, early_stop_threshold=None)
    head = model.head.weight.detach().clone()
    # The head existed before the snapshot, so the finder's steps on it were undone: a second run starts equal.
    net = _state(model)
    quiet().tuner.lr_find(model, num_training=10, early_stop_threshold=None)
    assert torch.equal(model.head.weight, head) and _equal(net, _state(model))


def test_lazy_modules_work_and_are_restored_to_their_initial_values() -> None:
    class LazyModel(Regressor):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.LazyLinear(16), torch.nn.Tanh(), torch.nn.Linear(16, 1))

    torch.manual_seed(0)
    model = LazyModel()
    finder = quiet().tuner.lr_find(model, num_training=10, early_stop_threshold=None)
    assert len(finder.results["lr"]) == 10
    first = model.net[0].weight.detach().clone()
    assert first.shape == (16, 8)
    # Restored to the values it was materialised with: a second finder gives the same curve.
    second = quiet().tuner.lr_find(model, num_training=10, early_stop_threshold=None)
    assert torch.equal(model.net[0].weight, first)
    assert second.results["lr"] == finder.results["lr"]


# --- suggestions --------------------------------------------------------------------------------------------------


def _finder(losses: list[float]) -> LRFinder:
    finder = LRFinder("exponential", 1e-4, 1.0, len(losses))
    finder.results = {"lr": sweep_lrs("exponential", 1e-4, 1.0, len(losses)), "loss": list(losses)}
    return finder


def test_suggestion_is_the_steepest_descent_over_the_index() -> None:
    losses = [5.0] * 12 + [5.0, 4.9, 4.5, 3.0, 2.8, 2.7, 2.6, 2.6, 3.0, 6.0]
    finder = _finder(losses)
    lr = finder.suggestion()
    slopes = np.gradient(np.array(losses[10:-1]))
    assert lr == finder.results["lr"][10 + int(np.argmin(slopes))]
    assert finder.message == ""


def test_nan_losses_are_masked_and_mapped_back_to_the_right_lr() -> None:
    base = [4.0, 4.0, 3.9, 3.8, 3.0, 2.0, 1.9, 1.85, 1.8, 1.9]
    with_nan = list(base)
    with_nan[2] = math.nan  # before the steepest part: in 1.x this shifted the index by one
    finder = _finder(with_nan)
    lr = finder.suggestion(skip_begin=0, skip_end=0)
    finite = [v for v in with_nan if math.isfinite(v)]
    kept = [i for i, v in enumerate(with_nan) if math.isfinite(v)]
    expected_idx = kept[int(np.argmin(np.gradient(np.array(finite))))]
    assert lr == finder.results["lr"][expected_idx]
    assert math.isfinite(finder.results["loss"][expected_idx])


@pytest.mark.parametrize("points", [0, 1, 11, 12])
def test_too_few_points_gives_none_with_a_reason(points: int, caplog: pytest.LogCaptureFixture) -> None:
    finder = _finder([1.0 - 0.01 * i for i in range(points)])
    with caplog.at_level(logging.ERROR, logger="trainer_core"):
        assert finder.suggestion() is None
    assert f"recorded {points} point(s)" in finder.message and "at least 13 points" in finder.message
    assert "Raise num_training" in finder.message
    assert "no suggestion" in caplog.text
    assert _finder([1.0 - 0.01 * i for i in range(13)]).suggestion() is not None


def test_all_nan_says_so() -> None:
    finder = _finder([math.nan] * 30)
    assert finder.suggestion() is None
    assert "NaN or infinite" in finder.message


def test_diverged_message_suggests_a_fix() -> None:
    finder = _finder([1.0, 0.9, 9.0])
    finder.stop_reason = "diverged at step 2"
    assert finder.suggestion() is None
    assert "lower max_lr" in finder.message


def test_plot_without_matplotlib_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if it were not installed
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ModuleNotFoundError, match="pip install matplotlib"):
        _finder([1.0 - 0.01 * i for i in range(20)]).plot()


def test_plot_draws_the_curve_and_the_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    calls: list[tuple[str, Any]] = []

    class Axes:
        figure = "figure"

        def plot(self, *args: Any, **kwargs: Any) -> None:
            calls.append(("plot", (args, kwargs)))

        def __getattr__(self, name: str) -> Any:
            return lambda *args, **kwargs: calls.append((name, args))

    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.subplots = lambda: ("figure", Axes())  # type: ignore[attr-defined]
    package = types.ModuleType("matplotlib")
    package.pyplot = pyplot  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "matplotlib", package)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    losses = [5.0] * 12 + [5.0, 4.9, 4.5, 3.0, 2.8, 2.7, 2.6, 2.6, 3.0, 6.0]
    finder = _finder(losses)
    assert finder.plot(suggest=True) == "figure"
    plots = [args for name, args in calls if name == "plot"]
    assert plots[0][0] == (finder.results["lr"], losses)
    lr = finder.suggestion()
    assert plots[1][0] == (lr, losses[finder.results["lr"].index(lr)]) and plots[1][1]["color"] == "red"
    assert ("set_xscale", ("log",)) in calls


# --- attributes ---------------------------------------------------------------------------------------------------


def test_update_attr_writes_lr() -> None:
    torch.manual_seed(0)
    model = Regressor()
    finder = quiet().tuner.lr_find(model, num_training=30, update_attr=True)
    assert model.lr == finder.suggestion()


def test_learning_rate_and_hparams_are_found() -> None:
    class HP(Regressor):
        def __init__(self) -> None:
            super().__init__()
            del self.lr
            self.save_hyperparameters({"learning_rate": 0.01})

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.learning_rate)

    torch.manual_seed(0)
    model = HP()
    finder = quiet().tuner.lr_find(model, num_training=30, update_attr=True)
    assert model.hparams.learning_rate == finder.suggestion() != 0.01
    assert "learning_rate" not in vars(model)


def test_custom_attribute_name_from_the_flag() -> None:
    class Custom(Regressor):
        def __init__(self) -> None:
            super().__init__()
            self.my_lr = 0.01

    model = Custom()
    trainer = quiet(auto_lr_find="my_lr")
    out = trainer.tune(model, lr_find_kwargs={"num_training": 30})
    assert model.my_lr == out["lr_find"].suggestion() and model.lr == 0.01


def test_datamodule_holder_is_written_too() -> None:
    class DataModule(pl.LightningDataModule):
        def __init__(self) -> None:
            super().__init__()
            self.lr = 0.5

        def train_dataloader(self) -> DataLoader:
            return DataLoader(regression_data(), batch_size=16)

    model, dm = Regressor(), DataModule()
    finder = quiet().tuner.lr_find(model, datamodule=dm, num_training=30, update_attr=True)
    assert model.lr == dm.lr == finder.suggestion()


def test_missing_attribute_errors_before_running() -> None:
    class NoLr(Regressor):
        def __init__(self) -> None:
            super().__init__()
            del self.lr

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=0.1)

    with pytest.raises(MisconfigurationError, match="neither `lr` nor `learning_rate`"):
        quiet().tuner.lr_find(NoLr(), update_attr=True)
    with pytest.raises(MisconfigurationError, match="'nope' was not found"):
        quiet().tuner.lr_find(Regressor(), update_attr=True, attr_name="nope")


def test_no_suggestion_leaves_the_attribute_alone() -> None:
    model = Regressor(length=32, batch_size=16)
    finder = quiet().tuner.lr_find(model, num_training=5, update_attr=True)
    assert finder.suggestion() is None and model.lr == 0.01


# --- errors and skips ---------------------------------------------------------------------------------------------


def test_more_than_one_optimizer_is_a_clear_error_and_restores() -> None:
    class Two(Regressor):
        def configure_optimizers(self) -> Any:
            return [torch.optim.SGD(self.parameters(), lr=0.1), torch.optim.Adam(self.parameters())]

    trainer = quiet(max_epochs=4)
    with pytest.raises(MisconfigurationError, match="exactly one optimizer; configure_optimizers returned 2"):
        trainer.tuner.lr_find(Two())
    assert trainer.max_epochs == 4 and trainer.callbacks == [] and trainer.max_steps == -1


def test_bad_arguments() -> None:
    with pytest.raises(MisconfigurationError, match="mode='cosine'"):
        quiet().tuner.lr_find(Regressor(), mode="cosine")
    with pytest.raises(MisconfigurationError, match="min_lr > 0 and max_lr > 0 for the exponential sweep"):
        quiet().tuner.lr_find(Regressor(), min_lr=0.0, max_lr=0.1)
    with pytest.raises(MisconfigurationError, match="min_lr >= 0 and max_lr >= 0"):
        quiet().tuner.lr_find(Regressor(), min_lr=-1.0, max_lr=0.1, mode="linear")
    with pytest.raises(MisconfigurationError, match="num_training=0"):
        quiet().tuner.lr_find(Regressor(), num_training=0)


def test_fast_dev_run_skips_with_a_message(caplog: pytest.LogCaptureFixture) -> None:
    trainer = quiet(fast_dev_run=True, auto_lr_find=True)
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        assert trainer.tune(Regressor()) == {"scale_batch_size": None, "lr_find": None}
    assert "Skipping the learning-rate finder: fast_dev_run" in caplog.text


def test_multi_process_trainers_are_refused() -> None:
    trainer = quiet(accelerator="cpu", strategy="ddp", devices=2)
    with pytest.raises(MisconfigurationError, match="single process; this Trainer uses 2 processes"):
        trainer.tuner.lr_find(Regressor())


def test_stop_from_a_telemetry_hook_interrupts_and_restores() -> None:
    class StopAtPoint(pl.Callback):
        def on_lr_find_point(self, trainer: Any, pl_module: Any, point: dict[str, float]) -> None:
            if point["step"] == 5:
                raise KeyboardInterrupt("stopped by the user")

    torch.manual_seed(0)
    model = Regressor()
    weights = _state(model)
    trainer = quiet(callbacks=[StopAtPoint()])
    finder = trainer.tuner.lr_find(model, num_training=50, update_attr=True)
    assert finder.stop_reason == "interrupted after 6 steps" and len(finder.results["lr"]) == 6
    assert trainer.state.status == "interrupted" and model.lr == 0.01
    assert _equal(weights, _state(model))


def test_ctrl_c_inside_the_short_fit_interrupts_gracefully() -> None:
    class CtrlC(Regressor):
        def training_step(self, batch: Any, batch_idx: int) -> Any:
            if self.trainer.global_step == 3:
                raise KeyboardInterrupt
            return super().training_step(batch, batch_idx)

    trainer = quiet()
    finder = trainer.tuner.lr_find(CtrlC(), num_training=20)
    assert finder.stop_reason == "interrupted after 3 steps"
    assert trainer.state.status == "interrupted"
