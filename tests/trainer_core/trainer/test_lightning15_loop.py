"""Lightning 1.5 loop behaviour: fit/validate/test/predict entry points, epochs, schedulers and optimizers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, IterableDataset

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer
from trainer_core.callbacks import GradientAccumulationScheduler, ModelCheckpoint
from trainer_core.exceptions import MisconfigurationError


class DataModule(pl.LightningDataModule):
    def train_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, 8), batch_size=4)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, 8, seed=2), batch_size=4)


class NoData(BoringModel):
    """Data comes from the datamodule only."""

    train_dataloader = None  # type: ignore[assignment]
    val_dataloader = None  # type: ignore[assignment]
    test_dataloader = None  # type: ignore[assignment]


def test_fit_takes_a_datamodule_as_the_second_positional_argument() -> None:
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0)
    dm = DataModule()
    trainer.fit(NoData(), dm)
    assert trainer.datamodule is dm and trainer.global_step == 2
    assert trainer.test(dataloaders=dm, verbose=False, ckpt_path=None)[0]["test_loss"] > 0


def test_predict_returns_predictions_when_return_predictions_is_none() -> None:
    out = quiet_trainer().predict(BoringModel(batch_size=32), return_predictions=None)
    assert out is not None and len(out) == 2


def test_validate_and_test_after_fit_default_to_the_best_checkpoint(tmp_path: Any, caplog: Any) -> None:
    class Scored(BoringModel):
        def validation_step(self, batch: Any, batch_idx: int) -> Any:
            # epoch 0 scores best; the weights at the end of fit are not the best ones
            self.log("score", float(self.current_epoch))
            return super().validation_step(batch, batch_idx)

    model = Scored(batch_size=32)
    checkpoint = ModelCheckpoint(dirpath=tmp_path, monitor="score", mode="min")
    trainer = quiet_trainer(max_epochs=3, callbacks=[checkpoint], enable_checkpointing=True)
    trainer.fit(model)
    assert checkpoint.best_model_path.endswith("epoch=0-step=2.ckpt")
    loaded: list[int] = []
    model.on_load_checkpoint = lambda ckpt: loaded.append(ckpt["epoch"])
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        trainer.test(verbose=False)
    assert loaded == [0]
    assert "loads the best checkpoint" in caplog.text and checkpoint.best_model_path in caplog.text


def test_without_a_model_checkpoint_the_current_weights_are_used_and_said(caplog: Any) -> None:
    trainer = quiet_trainer(max_epochs=1)
    trainer.fit(BoringModel(batch_size=32))
    with caplog.at_level(logging.INFO, logger="trainer_core"):
        result = trainer.validate(verbose=False)
    assert result[0]["val_loss"] > 0
    assert "uses the current weights (no ModelCheckpoint" in caplog.text


def test_the_model_is_in_train_mode_after_validate_and_test() -> None:
    model = BoringModel(batch_size=32)
    trainer = quiet_trainer()
    trainer.validate(model, verbose=False)
    assert model.training
    model.eval()
    trainer.test(model, verbose=False)
    assert model.training


class Empty(IterableDataset):
    def __iter__(self) -> Any:
        return iter([])


def test_an_epoch_without_batches_does_not_call_training_epoch_end() -> None:
    seen: list[Any] = []

    class Model(BoringModel):
        def train_dataloader(self) -> DataLoader:
            return DataLoader(Empty(), batch_size=4)

        def training_epoch_end(self, outputs: Any) -> None:
            seen.append(outputs)

    quiet_trainer(max_epochs=2, limit_val_batches=0).fit(Model())
    assert seen == []


def test_manual_optimization_with_two_optimizers_and_no_outputs_gives_an_empty_list() -> None:
    seen: list[Any] = []

    class Manual(BoringModel):
        def __init__(self) -> None:
            super().__init__(batch_size=32)
            self.automatic_optimization = False
            self.other = torch.nn.Linear(32, 2)

        def training_step(self, batch: Any, batch_idx: int) -> None:
            for opt in self.optimizers():
                opt.zero_grad()
            loss = self.loss(self(batch)) + self.loss(self.other(batch))
            self.manual_backward(loss)
            for opt in self.optimizers():
                opt.step()

        def training_epoch_end(self, outputs: Any) -> None:
            seen.append(outputs)

        def configure_optimizers(self) -> Any:
            return [torch.optim.SGD(self.layer.parameters(), lr=0.1), torch.optim.SGD(self.other.parameters(), lr=0.1)]

    quiet_trainer(max_epochs=1, limit_val_batches=0).fit(Manual())
    assert seen == [[]]


def test_manual_optimization_never_steps_schedulers_and_accepts_plateau_without_monitor() -> None:
    class Manual(BoringModel):
        def __init__(self) -> None:
            super().__init__(batch_size=16)
            self.automatic_optimization = False

        def training_step(self, batch: Any, batch_idx: int) -> None:
            opt = self.optimizers()
            opt.zero_grad()
            self.manual_backward(self.loss(self(batch)))
            opt.step()

        def configure_optimizers(self) -> Any:
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            return [opt], [{"scheduler": torch.optim.lr_scheduler.StepLR(opt, step_size=1), "interval": "step"},
                           torch.optim.lr_scheduler.ReduceLROnPlateau(opt)]

    model = Manual()
    trainer = quiet_trainer(max_epochs=2, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.global_step == 8
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.1)


class Alternating(BoringModel):
    """Two optimizers taking turns by "frequency", each with a OneCycleLR of a fixed total length."""

    def __init__(self, freqs: tuple[int, int] = (1, 3)) -> None:
        super().__init__(batch_size=8)
        self.other = torch.nn.Linear(32, 2)
        self.freqs = freqs
        self.epoch_outputs: list[Any] = []

    def training_step(self, batch: Any, batch_idx: int, optimizer_idx: int) -> Any:
        net = self.layer if optimizer_idx == 0 else self.other
        return {"loss": self.loss(net(batch)), "opt": optimizer_idx}

    def training_epoch_end(self, outputs: Any) -> None:
        self.epoch_outputs.append([[o["opt"] for o in per_opt] for per_opt in outputs])

    def configure_optimizers(self) -> Any:
        configs = []
        for params, freq in zip((self.layer.parameters(), self.other.parameters()), self.freqs):
            opt = torch.optim.SGD(params, lr=0.1)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=freq * 2)
            configs.append({"optimizer": opt, "frequency": freq,
                            "lr_scheduler": {"scheduler": sched, "interval": "step"}})
        return configs


def test_frequencies_with_training_epoch_end_and_per_optimizer_schedulers() -> None:
    model = Alternating()
    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0)  # 8 batches: turns 0,1,1,1,0,1,1,1
    trainer.fit(model)  # OneCycleLR raises if it is stepped past total_steps
    assert model.epoch_outputs == [[[0, 0], [1] * 6]]
    assert [config["scheduler"].last_epoch for config in trainer.lr_schedulers] == [2, 6]


def test_max_steps_ending_an_epoch_early_does_not_step_epoch_schedulers() -> None:
    model = BoringModel(batch_size=8)  # 8 batches per epoch, StepLR(step_size=1) per epoch
    trainer = quiet_trainer(max_steps=12, limit_val_batches=0)
    trainer.fit(model)
    assert trainer.current_epoch == 1 or trainer.global_step == 12
    assert trainer.lr_schedulers[0]["scheduler"].last_epoch == 1  # only the full first epoch


def test_unknown_scheduler_keys_warn_and_are_ignored() -> None:
    class Model(BoringModel):
        def configure_optimizers(self) -> Any:
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.StepLR(opt, 1),
                                                       "interval": "epoch", "foo": 1}}

    trainer = quiet_trainer(max_epochs=1, limit_val_batches=0)
    with pytest.warns(RuntimeWarning, match="foo"):
        trainer.fit(Model(batch_size=32))
    assert "foo" not in trainer.lr_schedulers[0]


def test_a_scheduler_of_an_optimizer_not_returned_is_an_error() -> None:
    class Model(BoringModel):
        def configure_optimizers(self) -> Any:
            opt = torch.optim.SGD(self.parameters(), lr=0.1)
            stray = torch.optim.SGD(self.parameters(), lr=0.1)
            return [opt], [torch.optim.lr_scheduler.StepLR(stray, 1)]

    with pytest.raises(MisconfigurationError, match="did not return"):
        quiet_trainer(max_epochs=1, limit_val_batches=0).fit(Model(batch_size=32))


def test_accumulate_grad_batches_with_a_gradient_accumulation_scheduler_is_an_error() -> None:
    trainer = quiet_trainer(accumulate_grad_batches=2, callbacks=[GradientAccumulationScheduler({0: 2})])
    with pytest.raises(MisconfigurationError, match="GradientAccumulationScheduler"):
        trainer.fit(BoringModel(batch_size=32))


def test_the_training_random_stream_does_not_depend_on_the_sanity_check() -> None:
    def first_draws(sanity_steps: int) -> list[float]:
        draws: list[float] = []

        class Model(BoringModel):
            def validation_step(self, batch: Any, batch_idx: int) -> Any:
                torch.rand(3)  # the sanity check consumes random numbers
                return super().validation_step(batch, batch_idx)

            def training_step(self, batch: Any, batch_idx: int) -> Any:
                draws.append(float(torch.rand(1)))
                return super().training_step(batch, batch_idx)

        pl.seed_everything(7)
        quiet_trainer(max_steps=2, num_sanity_val_steps=sanity_steps, limit_val_batches=1).fit(Model(batch_size=32))
        return draws

    assert first_draws(0) == first_draws(2)


def test_a_stop_requested_mid_epoch_ends_the_epoch_after_the_current_batch() -> None:
    class Model(BoringModel):
        def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
            if batch_idx == 2:
                self.trainer.should_stop = True

    trainer = quiet_trainer(max_epochs=3, limit_val_batches=0)
    trainer.fit(Model(batch_size=8))
    assert (trainer.global_step, trainer.current_epoch) == (3, 1)
