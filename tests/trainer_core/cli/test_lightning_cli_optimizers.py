"""LightningCLI (1.5): optimizers and schedulers from the command line (``add_optimizer_args``,
``add_lr_scheduler_args``, the filled-in ``configure_optimizers``, ``link_to``) and subclass mode for the model and
the datamodule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from tests.trainer_core.cli.scripts.autoencoder_cli import LitAutoEncoder, MyDataModule
from tests.trainer_core.cli.scripts.optimizers_cli import RegressionData, Regressor
from trainer_core.exceptions import MisconfigurationError
from trainer_core.utilities.cli import LightningArgumentParser, LightningCLI, ReduceLROnPlateau

SCRIPT = Path(__file__).parent / "scripts" / "optimizers_cli.py"
REPO = Path(__file__).resolve().parents[3]
QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false", "--trainer.logger=false",
         "--trainer.num_sanity_val_steps=0"]


def run_script(tmp_path: Path, *argv: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(SCRIPT), *argv], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("result: ")]
    return json.loads(line[len("result: "):])


def test_a_15_script_picks_subclasses_optimizer_and_scheduler_on_the_command_line(tmp_path: Path) -> None:
    result = run_script(tmp_path, "fit", "--model=DeepRegressor", "--model.depth=2", "--data=NoisyData",
                        "--data.level=0.5", "--optimizer=Adam", "--optimizer.lr=0.01", "--lr_scheduler.step_size=2",
                        "--trainer.max_epochs=3", "--trainer.logger=false")
    assert result == {"model": "DeepRegressor", "depth": 2, "data": "NoisyData", "level": 0.5, "optimizer": "Adam",
                      "lr": pytest.approx(0.001), "initial_lr": 0.01, "scheduler": "StepLR", "step_size": 2,
                      "epochs": 3}


def test_the_same_script_through_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "trainer": {"max_epochs": 2},
        "model": {"class_path": "__main__.DeepRegressor", "init_args": {"depth": 1, "hidden": 6}},
        "data": {"class_path": "NoisyData", "init_args": {"level": 0.25, "batch_size": 4}},
        "optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.2, "momentum": 0.5}},
        "lr_scheduler": {"step_size": 1, "gamma": 0.5},
    }))
    result = run_script(tmp_path, "fit", "--config", str(config))
    assert result == {"model": "DeepRegressor", "depth": 1, "data": "NoisyData", "level": 0.25, "optimizer": "SGD",
                      "lr": pytest.approx(0.05), "initial_lr": 0.2, "scheduler": "StepLR", "step_size": 1,
                      "epochs": 2}
    saved = yaml.safe_load((tmp_path / "lightning_logs" / "version_0" / "config.yaml").read_text())
    assert saved["optimizer"] == {"class_path": "torch.optim.SGD", "init_args": {**saved["optimizer"]["init_args"],
                                                                                  "lr": 0.2, "momentum": 0.5}}
    assert saved["lr_scheduler"]["init_args"]["gamma"] == 0.5


def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cls: type, *argv: str, model: type = Regressor,
            data: type = RegressionData, **kwargs: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    return cls(model, data, save_config_callback=None, **kwargs)


class AdamCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_optimizer_args(torch.optim.Adam)


def test_one_optimizer_class_gives_its_arguments_and_is_used_with_its_defaults(monkeypatch: pytest.MonkeyPatch,
                                                                              tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, AdamCLI, "fit", "--optimizer.lr=0.03", "--optimizer.weight_decay=0.1",
                  "--trainer.max_steps=2", *QUIET)
    (optimizer,) = cli.trainer.optimizers
    assert type(optimizer) is torch.optim.Adam and not cli.trainer.lr_schedulers
    assert (optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["weight_decay"]) == (0.03, 0.1)
    assert {id(p) for p in optimizer.param_groups[0]["params"]} == {id(p) for p in cli.model.parameters()}
    cli = run_cli(monkeypatch, tmp_path, AdamCLI, "fit", "--trainer.max_steps=1", *QUIET)
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == 1e-3  # Adam's own default


def test_a_model_with_its_own_configure_optimizers_is_overridden_with_a_warning(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="LitAutoEncoder.configure_optimizers` will be overridden"):
        cli = run_cli(monkeypatch, tmp_path, AdamCLI, "fit", "--optimizer.lr=0.07", "--trainer.max_steps=1",
                      *QUIET, model=LitAutoEncoder, data=MyDataModule)
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == 0.07


class ChoiceCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_optimizer_args((torch.optim.SGD, torch.optim.Adam))
        parser.add_lr_scheduler_args((torch.optim.lr_scheduler.StepLR, ReduceLROnPlateau))


def test_a_choice_left_open_keeps_the_models_configure_optimizers(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, ChoiceCLI, "fit", "--trainer.max_steps=1", *QUIET, model=LitAutoEncoder,
                  data=MyDataModule)
    assert "configure_optimizers" not in vars(cli.model)
    assert type(cli.trainer.optimizers[0]) is torch.optim.Adam  # the model's own


def test_reduce_lr_on_plateau_from_the_command_line_watches_its_monitor(monkeypatch: pytest.MonkeyPatch,
                                                                        tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, ChoiceCLI, "fit", "--optimizer=SGD", "--optimizer.lr=0.1",
                  "--lr_scheduler=ReduceLROnPlateau", "--lr_scheduler.monitor=train_loss",
                  "--lr_scheduler.patience=0", "--trainer.max_epochs=2", *QUIET)
    (config,) = cli.trainer.lr_schedulers
    assert isinstance(config["scheduler"], ReduceLROnPlateau) and config["monitor"] == "train_loss"
    assert config["reduce_on_plateau"]


class LinkedModel(Regressor):
    def __init__(self, hidden: int = 8, optimizer_init: dict | None = None) -> None:
        super().__init__(hidden)
        self.optimizer_init = optimizer_init

    def configure_optimizers(self) -> Any:
        from trainer_core.utilities.cli import instantiate_class

        return instantiate_class(self.parameters(), self.optimizer_init)


class LinkedCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_optimizer_args((torch.optim.SGD, torch.optim.Adam), link_to="model.optimizer_init")


def test_link_to_hands_the_choice_to_the_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, LinkedCLI, "fit", "--optimizer=SGD", "--optimizer.lr=0.3",
                  "--trainer.max_steps=1", *QUIET, model=LinkedModel)
    assert cli.model.optimizer_init["class_path"] == "torch.optim.SGD"
    assert cli.model.optimizer_init["init_args"]["lr"] == 0.3
    assert "configure_optimizers" not in vars(cli.model)
    assert type(cli.trainer.optimizers[0]) is torch.optim.SGD


class TwoAutomaticCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_optimizer_args(torch.optim.Adam)
        parser.add_optimizer_args(torch.optim.SGD, nested_key="gen_optimizer")


def test_two_automatic_optimizers_and_a_wrong_class_are_errors(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    with pytest.raises(MisconfigurationError, match=r"one optimizer and at most one lr_scheduler.*gen_optimizer"):
        run_cli(monkeypatch, tmp_path, TwoAutomaticCLI, "--trainer.max_steps=1", run=False)
    with pytest.raises(MisconfigurationError, match="torch.optim.Optimizer subclasses"):
        LightningArgumentParser().add_optimizer_args(torch.nn.Linear)
    with pytest.raises(MisconfigurationError, match="scheduler classes"):
        LightningArgumentParser().add_lr_scheduler_args(torch.optim.SGD)


def test_the_filled_in_configure_optimizers_pickles_with_the_model(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    import pickle

    cli = run_cli(monkeypatch, tmp_path, AdamCLI, "--optimizer.lr=0.02", run=False)
    copy = pickle.loads(pickle.dumps(cli.model))  # ddp_spawn sends the model to its processes this way
    optimizer = copy.configure_optimizers()
    assert type(optimizer) is torch.optim.Adam and optimizer.param_groups[0]["lr"] == 0.02
    assert {id(p) for p in optimizer.param_groups[0]["params"]} == {id(p) for p in copy.parameters()}


class Shallow(Regressor):
    pass


def test_subclass_mode_takes_a_short_name_or_a_class_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, AdamCLI, "--model=Shallow", "--model.hidden=3", run=False,
                  subclass_mode_model=True)
    assert type(cli.model) is Shallow and cli.model.hparams.hidden == 3
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"model": {"class_path": f"{__name__}.Shallow", "init_args": {"hidden": 5}},
                                      "data": {"class_path": "tests.trainer_core.cli.scripts.optimizers_cli.NoisyData",
                                               "init_args": {"level": 2.0}}}))
    cli = run_cli(monkeypatch, tmp_path, AdamCLI, "--config", str(config), run=False, subclass_mode_model=True,
                  subclass_mode_data=True)
    assert type(cli.model) is Shallow and cli.model.hparams.hidden == 5
    assert type(cli.datamodule).__name__ == "NoisyData" and cli.datamodule.level == 2.0
    with pytest.raises(SystemExit):  # not a subclass of the model class
        run_cli(monkeypatch, tmp_path, AdamCLI, "--model=torch.nn.Linear", run=False, subclass_mode_model=True)


def test_without_optimizer_args_of_its_own_any_torch_optimizer_and_scheduler_can_be_chosen(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, LightningCLI, "fit", "--optimizer=Adam", "--optimizer.lr=0.02",
                  "--lr_scheduler=ExponentialLR", "--lr_scheduler.gamma=0.5", "--trainer.max_epochs=1", *QUIET)
    (optimizer,) = cli.trainer.optimizers
    assert type(optimizer) is torch.optim.Adam and optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
    assert type(cli.trainer.lr_schedulers[0]["scheduler"]) is torch.optim.lr_scheduler.ExponentialLR
    cli = run_cli(monkeypatch, tmp_path, LightningCLI, "fit", "--trainer.max_steps=1", *QUIET, model=LitAutoEncoder,
                  data=MyDataModule)
    assert "configure_optimizers" not in vars(cli.model) and cli.config["fit"]["optimizer"] is None


class OwnOptimizerOptionCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.add_argument("--optimizer", default="adam")  # a script's own option of that name stays its own


def test_a_scripts_own_optimizer_option_is_left_alone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, OwnOptimizerOptionCLI, "--optimizer=sgd", run=False, model=LitAutoEncoder,
                  data=MyDataModule)
    assert cli.config["optimizer"] == "sgd" and "configure_optimizers" not in vars(cli.model)
