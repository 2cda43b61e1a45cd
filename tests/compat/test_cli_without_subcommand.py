"""Lightning 1.3/1.4 scripts build ``LightningCLI(Model, DataModule)`` and pass flags without a subcommand
(``python autoencoder.py --trainer.max_epochs=50``); the CLI then fits at once and the script goes on with
``cli.trainer.test(cli.model, ...)``. The real 1.x autoencoder and profiler examples are written that way; a
command line that names no subcommand is read as ``fit``.
"""

from __future__ import annotations

import sys

import pytest

from tests.helpers.boring_model import BoringModel
from trainer_core.utilities.cli import LightningCLI


def test_flags_without_subcommand_fit_right_away(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["autoencoder.py", "--trainer.fast_dev_run=true"])
    try:
        cli = LightningCLI(BoringModel, seed_everything_default=1234, save_config_overwrite=True)
    except SystemExit as exit_:
        raise AssertionError(f"the 1.4 form was refused (exit {exit_.code})") from exit_
    assert cli.trainer.state.finished
    assert cli.trainer.global_step == 1  # fast_dev_run: one training batch
