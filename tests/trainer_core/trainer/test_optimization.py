"""configure_optimizers return forms, schedulers, several optimizers, manual optimization, datamodules, predict."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, RandomDataset, quiet_trainer
from trainer_core import MisconfigurationError


def _sgd(module: torch.nn.Module, lr: float = 0.1) -> torch.optim.SGD:
    return torch.optim.SGD(module.parameters(), lr=lr)


def _forms(model: BoringModel) -> dict[str, Any]:
    opt = _sgd(model.layer)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1)
    return {
        "single": opt,
        "list": [opt],
        "pair": ([opt], [sched]),
        "dict": {"optimizer": opt, "lr_scheduler": sched},
        "dict_with_config": {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}},
        "list_of_dicts": [{"optimizer": opt, "lr_scheduler": sched}],
    }


@pytest.mark.parametrize("form", ["single", "list", "pair", "dict", "dict_with_config", "list_of_dicts"])
def test_every_configure_optimizers_form(form: str) -> None:
    class Model(BoringModel):
        def configure_optimizers(self) -> Any:
            return _forms(self)[form]

    trainer = quiet_trainer(max_epochs=2, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(Model())
    assert len(trainer.optimizers) == 1 and trainer.global_step == 6
    if form in ("pair", "dict", "list_of_dicts"):
        config = trainer.lr_schedulers[0]
        assert config["interval"] == "epoch" and config["frequency"] == 1 and config["monitor"] is None
        assert config["scheduler"].last_epoch == 2  # stepped once per epoch
    if form == "dict_with_config":
        assert trainer.lr_schedulers[0]["scheduler"].last_epoch == 6  # stepped once per optimizer step


def test_reduce_on_plateau_needs_monitor_and_reads_it() -> None:
    class Plateau(BoringModel):
        def configure_optimizers(self) -> Any:
            opt = _sgd(self.layer)
            return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0),
                    "monitor": "val_loss"}

    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=2)
    trainer.fit(Plateau())
    assert trainer.lr_schedulers[0]["reduce_on_plateau"]

    class NoMonitor(BoringModel):
        def configure_optimizers(self) -> Any:
            opt = _sgd(self.layer)
            return {"optimizer": opt, "lr_scheduler": torch.optim.lr_scheduler.ReduceLROnPlateau(opt)}

    with pytest.raises(MisconfigurationError, match="monitor"):
        quiet_trainer(max_epochs=1, limit_train_batches=1).fit(NoMonitor())

    class Missing(Plateau):
        def validation_step(self, batch: Any, batch_idx: int) -> None:
            pass

    with pytest.raises(MisconfigurationError, match="Available metrics"):
        quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=1).fit(Missing())


def test_unknown_return_is_a_clear_error() -> None:
    class Bad(BoringModel):
        def configure_optimizers(self) -> Any:
            return "adam"

    with pytest.raises(MisconfigurationError, match="configure_optimizers returned something unknown"):
        quiet_trainer(max_epochs=1).fit(Bad())


class TwoOptimizers(BoringModel):
    def __init__(self, frequencies: tuple[int, int] | None = None) -> None:
        super().__init__(batch_size=8)
        self.other = torch.nn.Linear(32, 2)
        self.frequencies = frequencies
        self.calls: list[int] = []

    def training_step(self, batch: Any, batch_idx: int, optimizer_idx: int) -> Any:
        self.calls.append(optimizer_idx)
        layer = self.layer if optimizer_idx == 0 else self.other
        # The other optimizer's parameters are frozen while this one steps (toggle_optimizer).
        frozen = self.other if optimizer_idx == 0 else self.layer
        assert not frozen.weight.requires_grad
        return self.loss(layer(batch))

    def configure_optimizers(self) -> Any:
        opts = [_sgd(self.layer), _sgd(self.other)]
        if self.frequencies:
            return [{"optimizer": o, "frequency": f} for o, f in zip(opts, self.frequencies)]
        return opts


def test_two_optimizers_each_step_every_batch() -> None:
    model = TwoOptimizers()
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(model)
    assert model.calls == [0, 1, 0, 1, 0, 1]
    assert trainer.global_step == 6  # 2.x: every optimizer step counts
    assert model.layer.weight.requires_grad and model.other.weight.requires_grad


def test_optimizer_frequencies_alternate() -> None:
    model = TwoOptimizers(frequencies=(2, 1))
    quiet_trainer(max_epochs=1, limit_train_batches=6, limit_val_batches=0).fit(model)
    assert model.calls == [0, 0, 1, 0, 0, 1]


class Manual(BoringModel):
    def __init__(self) -> None:
        super().__init__(batch_size=8)
        self.automatic_optimization = False

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        opt = self.optimizers()
        opt.zero_grad()
        loss = self.loss(self(batch))
        self.manual_backward(loss)
        opt.step()
        self.log("loss", loss)
        return loss

    def configure_optimizers(self) -> Any:
        return _sgd(self.layer)


def test_manual_optimization_steps_and_counts() -> None:
    model = Manual()
    before = model.layer.weight.detach().clone()
    seen: list[str] = []

    class Watch(pl.Callback):
        def on_before_backward(self, trainer: Any, pl_module: Any, loss: Any) -> None:
            seen.append("backward")

        def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any, opt_idx: int) -> None:
            seen.append("step")

    trainer = quiet_trainer(max_epochs=1, limit_train_batches=4, limit_val_batches=0, callbacks=[Watch()])
    trainer.fit(model)
    assert trainer.global_step == 4
    assert seen == ["backward", "step"] * 4
    assert not torch.equal(before, model.layer.weight)


def test_manual_optimization_rejects_accumulation_and_clipping() -> None:
    with pytest.raises(MisconfigurationError, match="manual optimization"):
        quiet_trainer(max_epochs=1, accumulate_grad_batches=2).fit(Manual())
    with pytest.raises(MisconfigurationError, match="manual optimization"):
        quiet_trainer(max_epochs=1, gradient_clip_val=1.0).fit(Manual())


class Data(pl.LightningDataModule):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def prepare_data(self) -> None:
        self.calls.append("prepare_data")

    def setup(self, stage: str | None = None) -> None:
        self.calls.append(f"setup:{stage}")

    def teardown(self, stage: str | None = None) -> None:
        self.calls.append(f"teardown:{stage}")

    def train_dataloader(self) -> DataLoader:
        return DataLoader(RandomDataset(32, 12), batch_size=4)


def test_datamodule_hooks_and_fallback_to_module_loaders() -> None:
    dm = Data()
    model = BoringModel(batch_size=16)  # val loader comes from the module: 4 batches
    trainer = quiet_trainer(max_epochs=1, num_sanity_val_steps=0)
    trainer.fit(model, datamodule=dm)
    assert dm.calls == ["prepare_data", "setup:fit", "teardown:fit"]
    assert trainer.num_training_batches == 3 and trainer.num_val_batches == [4]
    assert trainer.datamodule is dm


def test_dataloaders_and_datamodule_together_is_an_error() -> None:
    with pytest.raises(MisconfigurationError, match="not both"):
        quiet_trainer().fit(BoringModel(), train_dataloaders=DataLoader(RandomDataset()), datamodule=Data())


def test_predict_returns_predictions() -> None:
    predictions = quiet_trainer().predict(BoringModel(batch_size=16))
    assert len(predictions) == 4 and predictions[0].shape == (16, 2)


def test_device_property_and_hparams() -> None:
    class WithArgs(BoringModel):
        def __init__(self, width: int = 3, name: str = "x") -> None:
            super().__init__()
            self.save_hyperparameters(ignore="name")

    model = WithArgs(width=5)
    assert model.hparams == {"width": 5}
    assert model.device == torch.device("cpu")


def test_bad_accelerator_requests() -> None:
    with pytest.raises(MisconfigurationError, match="You requested GPUs"):
        quiet_trainer(gpus=2)
    with pytest.raises(MisconfigurationError, match="ddp2"):
        quiet_trainer(strategy="ddp2")
    with pytest.raises(MisconfigurationError, match="torch_xla"):
        quiet_trainer(tpu_cores=8)
    with pytest.raises(MisconfigurationError, match="apex"):
        quiet_trainer(amp_backend="apex")


def test_trainer_precision_is_the_2x_string() -> None:
    assert quiet_trainer(precision=64).precision == "64-true"
    assert quiet_trainer(precision="bf16").precision == "bf16-mixed"
