"""LightningCLI (1.5): subcommands, the YAML config form, --print_config, hooks, run=False, SaveConfigCallback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from tests.trainer_core.cli.scripts.autoencoder_cli import LitAutoEncoder, MyDataModule
from trainer_core.callbacks import EarlyStopping, LearningRateMonitor
from trainer_core.utilities.cli import LightningCLI, SaveConfigCallback

SCRIPTS = Path(__file__).parent / "scripts"
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
         "--trainer.num_sanity_val_steps", "0"]


class RecordingCLI(LightningCLI):
    calls: list[str] = []

    def before_instantiate_classes(self) -> None:
        self.calls.append("before_instantiate_classes")

    def before_fit(self) -> None:
        self.calls.append(f"before_fit:{self.trainer.current_epoch}")

    def after_fit(self) -> None:
        self.calls.append(f"after_fit:{self.trainer.current_epoch}")


def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *argv: str, cls: type = LightningCLI,
            **kwargs: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    return cls(LitAutoEncoder, MyDataModule, **kwargs)


def write_config(tmp_path: Path, config: dict[str, Any]) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_fit_from_a_15_config_with_overrides_and_hooks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = write_config(tmp_path, {
        "seed_everything": 7,
        "trainer": {"max_epochs": 2, "callbacks": [
            {"class_path": "trainer_core.callbacks.EarlyStopping", "init_args": {"monitor": "val_loss"}}]},
        "model": {"class_path": "tests.trainer_core.cli.scripts.autoencoder_cli.LitAutoEncoder",
                  "init_args": {"hidden_dim": 5}},
        "data": {"batch_size": 8},
    })
    RecordingCLI.calls = []
    cli = run_cli(monkeypatch, tmp_path, "fit", "--config", config, "--model.learning_rate", "0.01",
                  "--trainer.max_epochs", "1", *QUIET, cls=RecordingCLI)
    assert cli.subcommand == "fit" and os.environ["PL_GLOBAL_SEED"] == "7"
    assert (cli.model.hparams.hidden_dim, cli.model.hparams.learning_rate) == (5, 0.01)
    assert cli.datamodule.batch_size == 8
    assert cli.trainer.current_epoch == 1 and cli.trainer.state.finished
    assert any(isinstance(cb, EarlyStopping) and cb.monitor == "val_loss" for cb in cli.trainer.callbacks)
    assert RecordingCLI.calls == ["before_instantiate_classes", "before_fit:0", "after_fit:1"]
    saved = yaml.safe_load((Path(cli.trainer.log_dir) / "config.yaml").read_text())
    assert saved["model"]["init_args"]["hidden_dim"] == 5 and saved["trainer"]["max_epochs"] == 1


def test_init_arguments_given_directly_and_test_subcommand(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"model": {"hidden_dim": 6}, "trainer": {"logger": False}})
    cli = run_cli(monkeypatch, tmp_path, "test", "--config", config, "--data.batch_size", "4", *QUIET,
                  save_config_callback=None)
    assert cli.model.hparams.hidden_dim == 6 and cli.datamodule.batch_size == 4
    assert cli.trainer.state.fn == "test" and "test_loss" in cli.trainer.callback_metrics
    assert not any(isinstance(cb, SaveConfigCallback) for cb in cli.trainer.callbacks)


def test_print_config_prints_the_resolved_yaml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli(monkeypatch, tmp_path, "fit", "--model.hidden_dim", "9", "--trainer.max_epochs", "4", "--print_config")
    assert exit_info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["init_args"]["hidden_dim"] == 9 and printed["trainer"]["max_epochs"] == 4
    assert printed["data"]["class_path"].endswith("MyDataModule") and "seed_everything" in printed


def test_run_false_instantiates_only_with_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monitor = LearningRateMonitor()
    cli = run_cli(monkeypatch, tmp_path, "--trainer.max_epochs", "3", run=False, seed_everything_default=123,
                  trainer_defaults={"max_steps": 5, "callbacks": [monitor], "logger": False})
    assert cli.subcommand is None and cli.trainer.current_epoch == 0 and cli.trainer.global_step == 0
    assert (cli.trainer.max_epochs, cli.trainer.max_steps) == (3, 5)
    assert monitor in cli.trainer.callbacks and os.environ["PL_GLOBAL_SEED"] == "123"
    assert cli.config["seed_everything"] == 123


def test_an_existing_config_file_is_not_overwritten(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = tmp_path / "root"
    argv = ("fit", "--trainer.max_steps", "1", "--trainer.default_root_dir", str(root),
            "--trainer.logger", "false", *QUIET)
    run_cli(monkeypatch, tmp_path, *argv)
    assert (root / "config.yaml").is_file()
    with pytest.raises(RuntimeError, match="config.yaml to NOT exist"):
        run_cli(monkeypatch, tmp_path, *argv)
    run_cli(monkeypatch, tmp_path, *argv, save_config_overwrite=True)


def test_a_bad_trainer_value_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        run_cli(monkeypatch, tmp_path, "fit", "--trainer.max_epochs", "many")


def test_a_15_style_script_runs_in_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "autoencoder_cli.py"), "--trainer.max_epochs", "2", "--model.hidden_dim", "8",
         "--data.batch_size", "16", "--trainer.enable_progress_bar", "false"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert "done: hidden_dim=8 batch_size=16 epochs=2 test_loss=True" in done.stdout
    saved = yaml.safe_load((tmp_path / "lightning_logs" / "version_0" / "config.yaml").read_text())
    assert saved["seed_everything"] == 1234 and saved["data"]["init_args"]["batch_size"] == 16
    assert torch.__version__  # the script imported torch through trainer_core only


class LinkingCLI(LightningCLI):
    def add_arguments_to_parser(self, parser: Any) -> None:
        parser.add_argument("--notes", default="none")
        parser.link_arguments("data.batch_size", "model.hidden_dim")


def test_equals_syntax_profiler_gpus_and_linked_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # the 1.5 profiler example's command line: --trainer.X=VALUE, gpus=0, a profiler by name
    cli = run_cli(monkeypatch, tmp_path, "fit", "--trainer.max_epochs=1", "--trainer.limit_train_batches=2",
                  "--trainer.limit_val_batches=1", "--trainer.profiler=simple", "--trainer.gpus=0",
                  "--data.batch_size=12", "--notes=linked", "--trainer.logger=false", *QUIET, cls=LinkingCLI)
    assert cli.model.hparams.hidden_dim == 12 and cli.config["fit"]["notes"] == "linked"
    assert type(cli.trainer.profiler).__name__ == "SimpleProfiler" and cli.trainer.num_gpus == 0
    assert cli.trainer.current_epoch == 1


def test_tune_subcommand_passes_its_method_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cli = run_cli(monkeypatch, tmp_path, "tune", "--trainer.auto_lr_find=true", "--trainer.logger=false",
                  "--lr_find_kwargs={num_training: 20, min_lr: 0.002, max_lr: 0.1}", *QUIET)
    assert cli.trainer.state.fn == "tune"
    # the model's default is 1e-3: a value in the finder's range shows its suggestion was written back
    assert 0.002 <= cli.model.hparams.learning_rate <= 0.1


def test_a_14_command_line_without_a_subcommand_fits(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, {"trainer": {"max_epochs": 1, "logger": False}, "model": {"hidden_dim": 4}})
    cli = run_cli(monkeypatch, tmp_path, "--config", config, *QUIET, save_config_callback=None)
    assert cli.subcommand == "fit" and cli.trainer.state.fn == "fit" and cli.trainer.current_epoch == 1
    assert cli.model.hparams.hidden_dim == 4
    with pytest.raises(SystemExit) as exit_info:  # --help still shows the subcommands
        run_cli(monkeypatch, tmp_path, "--help")
    assert exit_info.value.code == 0 and "{fit,validate,test,predict,tune}" in capsys.readouterr().out
