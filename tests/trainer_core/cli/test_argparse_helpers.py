"""Lightning 1.x's argparse trio on Trainer and LightningDataModule, and a 1.5-style GAN script run unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

import pytest

import trainer_core as pl
from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAGS

SCRIPTS = Path(__file__).parent / "scripts"
QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)


class SizedData(pl.LightningDataModule):
    def __init__(self, data_dir: str = "./data", batch_size: int = 32, shuffle: bool = False, ratio=0.5):
        super().__init__()
        self.data_dir, self.batch_size, self.shuffle, self.ratio = data_dir, batch_size, shuffle, ratio


def test_trainer_gets_one_option_per_flag_with_schema_defaults() -> None:
    args = pl.Trainer.add_argparse_args(ArgumentParser()).parse_args([])
    assert set(vars(args)) == set(FLAGS)
    assert all(getattr(args, name) == flag.default for name, flag in FLAGS.items())


@pytest.mark.parametrize(("argv", "name", "value"), [
    (["--max_epochs", "3"], "max_epochs", 3),
    (["--limit_train_batches", "0.25"], "limit_train_batches", 0.25),
    (["--gpus", "0,1"], "gpus", [0, 1]),
    (["--devices", "[0, 1]"], "devices", [0, 1]),
    (["--precision", "bf16"], "precision", "bf16"),
    (["--fast_dev_run"], "fast_dev_run", True),
    (["--logger", "false"], "logger", False),
    (["--default_root_dir", "123"], "default_root_dir", "123"),
])
def test_trainer_option_values_read_as_python(argv: list[str], name: str, value: object) -> None:
    args = pl.Trainer.add_argparse_args(ArgumentParser()).parse_args(argv)
    assert getattr(args, name) == value


def test_from_argparse_args_ignores_script_options_and_takes_overrides(tmp_path: Path) -> None:
    parser = pl.Trainer.add_argparse_args(ArgumentParser())
    parser.add_argument("--hidden_dim", type=int, default=128)
    args = parser.parse_args(["--max_epochs", "4", "--hidden_dim", "7", "--default_root_dir", str(tmp_path)])
    trainer = pl.Trainer.from_argparse_args(args, max_steps=9, **QUIET)
    assert (trainer.max_epochs, trainer.max_steps, trainer.default_root_dir) == (4, 9, str(tmp_path))


def test_both_spellings_left_at_default_do_not_clash_but_a_set_one_is_validated() -> None:
    args = pl.Trainer.add_argparse_args(ArgumentParser()).parse_args(["--progress_bar_refresh_rate", "0"])
    trainer = pl.Trainer.from_argparse_args(args, logger=False)
    assert trainer.progress_bar_callback is None
    bad = pl.Trainer.add_argparse_args(ArgumentParser()).parse_args(["--max_epochs", "-5"])
    with pytest.raises(MisconfigurationError, match="max_epochs"):
        pl.Trainer.from_argparse_args(bad)


def test_from_argparse_args_accepts_a_dict() -> None:
    trainer = pl.Trainer.from_argparse_args({"max_epochs": 2, "not_a_flag": 1}, **QUIET)
    assert trainer.max_epochs == 2


def test_datamodule_options_come_from_its_constructor() -> None:
    parser = SizedData.add_argparse_args(ArgumentParser())
    defaults = parser.parse_args([])
    assert vars(defaults) == {"data_dir": "./data", "batch_size": 32, "shuffle": False, "ratio": 0.5}
    args = parser.parse_args(["--batch_size", "8", "--shuffle", "--ratio", "0.1", "--data_dir", "7"])
    assert (args.batch_size, args.shuffle, args.ratio, args.data_dir) == (8, True, 0.1, "7")
    dm = SizedData.from_argparse_args(Namespace(**vars(args), max_epochs=3), batch_size=4)
    assert (dm.batch_size, dm.shuffle, dm.data_dir) == (4, True, "7")


def test_options_land_in_a_group_named_after_the_class_unless_asked_not_to() -> None:
    grouped = SizedData.add_argparse_args(ArgumentParser())
    assert "SizedData" in [group.title for group in grouped._action_groups]
    flat = SizedData.add_argparse_args(ArgumentParser(), use_argument_group=False)
    assert "SizedData" not in [group.title for group in flat._action_groups]


def test_parse_argparser_reads_sys_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["script.py", "--max_epochs", "5"])
    args = pl.Trainer.parse_argparser(pl.Trainer.add_argparse_args(ArgumentParser()))
    assert args.max_epochs == 5


def test_a_lightning_15_style_gan_script_runs_unchanged(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "gan_argparse.py"), "--max_epochs", "2", "--batch_size", "8", "--lr", "0.001",
         "--enable_checkpointing", "false", "--enable_progress_bar", "false", "--default_root_dir", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "done: epochs=2 max_epochs=2 batch_size=8 lr=0.001 g_loss=True" in done.stdout
    assert (tmp_path / "lightning_logs" / "version_0" / "hparams.yaml").exists()
