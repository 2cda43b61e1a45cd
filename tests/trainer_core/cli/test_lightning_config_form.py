"""``trainer-core --config`` reads LightningCLI's YAML form (1.5): class_path/init_args, or init arguments directly;
``script``/``class`` stay our extension."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from trainer_core.cli import main, parse_args
from trainer_core.loading.errors import ConfigError

FAST = ["--enable_progress_bar", "false", "--enable_model_summary", "false", "--num_sanity_val_steps", "0"]


def config_file(folder: Path, config: dict[str, Any]) -> str:
    path = folder / "run.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_class_path_names_the_module_and_class(project: Path) -> None:
    path = config_file(project, {"seed_everything": 3, "trainer": {"max_epochs": 2},
                                 "model": {"class_path": "model.TinyClassifier", "init_args": {"lr": 0.3}}})
    parsed = parse_args(["fit", "--config", path, "--data", "data.csv"])
    model = parsed.config["model"]
    assert Path(model["script"]) == project / "model.py" and model["class"] == "TinyClassifier"
    assert model["init_args"] == {"lr": 0.3}
    assert parsed.config["seed_everything"] == 3 and parsed.config["trainer"]["max_epochs"] == 2


def test_init_arguments_given_directly_take_the_script_from_the_command_line(project: Path) -> None:
    path = config_file(project, {"model": {"lr": 0.2, "name": "direct"}, "data": {"batch_size": 4}})
    parsed = parse_args(["fit", "--config", path, "--model", "model.py", "--data", "data.csv", "--model.lr", "0.5"])
    assert parsed.config["model"]["script"].endswith("model.py")
    assert parsed.config["model"]["init_args"] == {"lr": 0.5, "name": "direct"}
    assert parsed.config["data"] == {"path": "data.csv", "batch_size": 4}


def test_a_class_path_that_cannot_be_found_is_a_clear_error(project: Path) -> None:
    path = config_file(project, {"model": {"class_path": "nowhere.Net"}})
    with pytest.raises(ConfigError, match="class_path names module `nowhere`"):
        parse_args(["fit", "--config", path])
    path = config_file(project, {"model": {"class_path": "model.TinyClassifier", "init_arg": {}}})
    with pytest.raises(ConfigError, match="Did you mean `init_args`"):
        parse_args(["fit", "--config", path])


def test_init_arguments_alone_are_not_a_model(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_file(project, {"model": {"lr": 0.2}})
    assert main(["fit", "--config", path, "--data", "data.csv", *FAST]) == 2
    assert "section model needs `script`" in capsys.readouterr().err


DATA = """
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


class TinyData(pl.LightningDataModule):
    def __init__(self, n: int = 16, batch_size: int = 4):
        super().__init__()
        self.n, self.batch_size = n, batch_size

    def train_dataloader(self):
        x = torch.randn(self.n, 2, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=self.batch_size)
"""


def test_a_lightning_form_config_trains(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "data.py").write_text(DATA)
    path = config_file(project, {"trainer": {"max_epochs": 2, "logger": False, "limit_val_batches": 0},
                                 "model": {"class_path": "model.TinyClassifier", "init_args": {"lr": 0.4}},
                                 "data": {"class_path": "data.TinyData", "init_args": {"n": 12}}})
    assert main(["fit", "--config", path, "--data.batch_size", "6", "--print_config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["data"]["class"] == "TinyData" and printed["data"]["init_args"] == {"n": 12, "batch_size": 6}
    assert Path(printed["model"]["script"]).name == "model.py" and printed["model"]["init_args"]["lr"] == 0.4
    assert main(["fit", "--config", path, "--data.batch_size", "6", *FAST]) == 0
