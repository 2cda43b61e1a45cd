"""The finders' short fits run on Trainers built from the user's flags; the user's Trainer is left alone."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
import torch

import trainer_core as pl
from tests.trainer_core.tuner.tuner_models import OOMOracle, Regressor, quiet
from trainer_core.callbacks import EarlyStopping, ModelCheckpoint
from trainer_core.flags import override_flags
from trainer_core.tuner._session import short_fit_flags


class _Watch(pl.Callback):
    """Looks at the user's Trainer from the tuner's telemetry hooks, while the short fits run."""

    def __init__(self) -> None:
        self.user_trainer: Any = None
        self.seen: list[tuple[bool, int, int]] = []

    def on_lr_find_point(self, trainer: Any, pl_module: Any, point: dict[str, float]) -> None:
        user = self.user_trainer
        self.seen.append((trainer is user, user.global_step, len(user.optimizers)))

    on_batch_size_trial = on_lr_find_point


def test_the_users_trainer_is_not_driven_by_the_short_fit() -> None:
    watch = _Watch()
    trainer = quiet(callbacks=[watch], max_epochs=3)
    watch.user_trainer = trainer
    trainer.tuner.lr_find(Regressor(), num_training=5, early_stop_threshold=None)
    # Each point comes from another Trainer; the user's one never counts a step nor holds an optimizer.
    assert watch.seen == [(False, 0, 0)] * 5
    assert trainer.lightning_module is not None and trainer.lightning_module.trainer is trainer


def test_batch_size_trials_run_on_short_trainers_too() -> None:
    watch = _Watch()
    trainer = quiet(callbacks=[watch])
    watch.user_trainer = trainer
    model = OOMOracle(threshold=8)
    assert trainer.tuner.scale_batch_size(model, mode="power") == 8
    assert model.trainer is trainer
    # Trial events arrive after each short fit, from the user's Trainer, which never stepped.
    assert watch.seen and all(seen == (True, 0, 0) for seen in watch.seen)


def test_callbacks_from_configure_callbacks_stay_out_of_the_short_fit(tmp_path: Path) -> None:
    class WithCallbacks(Regressor):
        def configure_callbacks(self) -> Any:
            return [ModelCheckpoint(dirpath=str(tmp_path / "ckpt"), every_n_train_steps=1),
                    EarlyStopping(monitor="train_loss", patience=0, check_on_train_epoch_end=True)]

    torch.manual_seed(0)
    finder = quiet(default_root_dir=str(tmp_path)).tuner.lr_find(WithCallbacks(length=32), num_training=12,
                                                                  early_stop_threshold=None)
    assert len(finder.results["lr"]) == 12  # EarlyStopping did not end the sweep
    assert not (tmp_path / "ckpt").exists()  # ModelCheckpoint wrote nothing


def test_short_fit_flags_replace_every_spelling_and_keep_the_rest() -> None:
    marker = pl.Callback()
    given = {"checkpoint_callback": True, "progress_bar_refresh_rate": 5, "weights_summary": "full",
             "accumulate_grad_batches": 2, "precision": 64, "callbacks": [pl.Callback()], "max_epochs": 7}
    flags = short_fit_flags(given, marker, 10, {"limit_train_batches": 1.0})
    assert "checkpoint_callback" not in flags and "progress_bar_refresh_rate" not in flags
    assert "weights_summary" not in flags
    assert flags["callbacks"] == [marker] and flags["max_steps"] == 10 and flags["max_epochs"] == -1
    assert flags["accumulate_grad_batches"] == 2 and flags["precision"] == 64
    assert flags["limit_train_batches"] == 1.0 and flags["limit_val_batches"] == 0
    pl.Trainer(**flags)  # no two spellings of one setting


def test_overfit_batches_keeps_its_train_limit_without_validation() -> None:
    flags = short_fit_flags({"overfit_batches": 3}, pl.Callback(), 10, {})
    assert flags["overfit_batches"] == 0.0 and flags["limit_train_batches"] == 3
    assert flags["limit_val_batches"] == 0


def test_override_flags_drops_the_other_spelling() -> None:
    assert override_flags({"gpus": 0, "max_steps": 3}, {"devices": 1}) == {"max_steps": 3, "devices": 1}


def test_the_tune_stage_opens_and_closes_like_every_stage_on_ctrl_c() -> None:
    seen: list[str] = []

    class CtrlCAtSetup(pl.Callback):
        def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
            seen.append(f"setup:{stage}")
            raise KeyboardInterrupt

        def on_keyboard_interrupt(self, trainer: Any, pl_module: Any) -> None:
            seen.append("interrupt")

        def teardown(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
            seen.append(f"teardown:{stage}")

    trainer = quiet(callbacks=[CtrlCAtSetup()], auto_lr_find=True)
    model = Regressor()
    trainer.tune(model)  # a graceful stop, as for fit: not re-raised
    assert seen == ["setup:tune", "interrupt", "teardown:tune"]
    assert trainer.state.stage == "tune" and trainer.state.status == "interrupted"
    assert model.lr == 0.01


def test_no_short_fit_trainer_outlives_its_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer_core.tuner import batch_size as bs
    from trainer_core.tuner import lr_finder

    seen: list[weakref.ref] = []
    for cls in (bs._TrialCallback, lr_finder._LRFinderCallback):
        def on_fit_start(self: Any, trainer: Any, pl_module: Any, base: Any = cls.on_fit_start) -> None:
            seen.append(weakref.ref(trainer))
            base(self, trainer, pl_module)

        monkeypatch.setattr(cls, "on_fit_start", on_fit_start)
    trainer = quiet()
    trainer.tuner.lr_find(Regressor(), num_training=5, early_stop_threshold=None)
    trainer.tuner.scale_batch_size(OOMOracle(threshold=8), mode="binsearch")
    gc.collect()
    # Their optimizers and last batches (device memory on a GPU) are gone with them.
    assert len(seen) > 2 and all(ref() is None for ref in seen)


def test_a_trainer_subclass_runs_the_short_fits_as_itself_or_as_its_engine_base() -> None:
    built: list[str] = []

    class Passing(pl.Trainer):
        def __init__(self, **flags: Any) -> None:
            built.append("passing")
            super().__init__(**flags)

    class OwnArguments(pl.Trainer):
        def __init__(self, experiment: str) -> None:
            built.append(experiment)
            super().__init__(logger=False, enable_progress_bar=False, enable_model_summary=False,
                             enable_checkpointing=False)

    Passing(logger=False, enable_progress_bar=False).tuner.lr_find(Regressor(), num_training=3)
    assert built == ["passing", "passing"]  # the user's Trainer, then the short fit of the same class
    finder = OwnArguments("exp-1").tuner.lr_find(Regressor(), num_training=3, early_stop_threshold=None)
    assert built[2:] == ["exp-1"] and len(finder.results["lr"]) == 3  # its constructor cannot take the flags
