"""Command-line parsing into the run config, without running anything."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from trainer_core.cli import CliError, build_parser, main, parse_args, parse_value
from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAGS
from trainer_core.loading import ConfigError


@pytest.mark.parametrize("text,value", [
    ("3", 3), ("0.5", 0.5), ("-1", -1), ("[0, 1]", [0, 1]), ("(0, 1)", [0, 1]), ("True", True), ("false", False),
    ("None", None), ("null", None), ("bf16", "bf16"), ("{'hours': 1}", {"hours": 1}), ("00:00:01:00", "00:00:01:00"),
    ("a b", "a b"),
])
def test_parse_value(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_every_schema_flag_is_an_option() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for mode, sub in subparsers.choices.items():
        options = {s for action in sub._actions for s in action.option_strings}
        missing = {f"--{name}" for name in FLAGS} - options
        assert not missing, f"{mode} lacks {missing}"


def test_flags_model_and_data_arguments() -> None:
    parsed = parse_args(["fit", "--model", "m.py:Net", "--model.hidden", "32", "--model.lr=-0.5", "--max_epochs", "3",
                         "--fast_dev_run", "--data", "d.csv", "--data.val_split", "0.1", "--gpus", "-1",
                         "--default_root_dir", "123", "--precision", "bf16", "--seed_everything", "7"])
    assert parsed.mode == "fit"
    assert parsed.config == {
        "trainer": {"max_epochs": 3, "fast_dev_run": True, "gpus": -1, "default_root_dir": "123", "precision": "bf16"},
        "model": {"script": "m.py", "class": "Net", "init_args": {"hidden": 32, "lr": -0.5}},
        "data": {"path": "d.csv", "val_split": 0.1},
        "seed_everything": 7,
    }


def test_datamodule_script_and_tune_arguments() -> None:
    parsed = parse_args(["tune", "--model", "m.py", "--data", "dm.py:Data", "--data.batch_size", "8",
                         "--tune.lr_find_kwargs", "{'num_training': 20}", "--auto_scale_batch_size", "binsearch"])
    assert parsed.config["data"] == {"script": "dm.py", "class": "Data", "init_args": {"batch_size": 8}}
    assert parsed.config["tune"] == {"lr_find_kwargs": {"num_training": 20}}
    assert parsed.config["trainer"] == {"auto_scale_batch_size": "binsearch"}


@pytest.mark.parametrize("argv,message", [
    (["fit", "--check_val_interval", "2"], "Did you mean `--val_check_interval`?"),
    (["fit", "--check_val_every_n_epochs", "2"], "Did you mean `--check_val_every_n_epoch`?"),
    (["fit", "--max-epochs", "3"], "Did you mean `--max_epochs`?"),
    (["fit", "--modle", "m.py"], "Did you mean `--model`?"),
    (["fit", "m.py"], "unexpected argument `m.py`"),
    (["fit", "--model.x"], "--model.x needs a value"),
    (["fit", "--model.hidden-size", "3"], "Did you mean `--model.hidden_size`?"),
    (["fit", "--model.x", "1"], "no model: add --model SCRIPT.py"),
    (["fit", "--data", "x.csv", "--data.batchsize", "3"], "Did you mean `--data.batch_size`?"),
    (["fit", "--max_epochs"], "expected one argument"),
    ([], "give a subcommand"),
])
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message.replace("(", r"\(").replace("?", r"\?").replace(".", r"\.")):
        parse_args(argv)


def test_config_file_then_command_line(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("")
    config = tmp_path / "run.yaml"
    config.write_text("trainer: {max_epochs: 5, log_every_n_steps: 1}\nmodel: {script: m.py, init_args: {h: 1}}\n")
    parsed = parse_args(["fit", "--config", str(config), "--max_epochs", "2", "--model.h", "4"])
    assert parsed.config["trainer"] == {"max_epochs": 2, "log_every_n_steps": 1}
    assert parsed.config["model"] == {"script": str(tmp_path / "m.py"), "class": None, "init_args": {"h": 4}}


def test_misspelled_flag_in_config(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("trainer:\n  check_val_every_n_epochs: 2\n")
    with pytest.raises(ConfigError, match="Did you mean `check_val_every_n_epoch`"):
        parse_args(["fit", "--config", str(config)])


def test_main_reports_bad_input_in_one_paragraph(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "--check_val_interval", "2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trainer-core fit: error: `--check_val_interval` is not an option")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_main_traceback_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "--check_val_interval", "2", "--traceback"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_cli_error_is_a_misconfiguration() -> None:
    assert issubclass(CliError, MisconfigurationError)


def test_trust_checkpoint_option_is_parsed() -> None:
    from trainer_core.cli import parse_args

    assert parse_args(["fit", "--model", "m.py", "--trust_checkpoint"]).trust_checkpoint is True
    assert parse_args(["fit", "--model", "m.py"]).trust_checkpoint is False
