"""The command line end to end: a few real processes, the rest through ``main()`` in-process."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from trainer_core.cli import main
from trainer_core.flags import FLAGS

FAST = ["--enable_progress_bar", "false", "--enable_model_summary", "false", "--log_every_n_steps", "1",
        "--num_sanity_val_steps", "0"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # One torch thread: on a busy 2-core machine idle-spinning OpenMP threads slow tiny models down a lot.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3]), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "trainer_core", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_fit_then_test_in_real_processes(project: Path) -> None:
    fit = cli("fit", "--model", "model.py", "--data", "data.csv", "--data.val_split", "8", "--data.batch_size", "8",
              "--max_epochs", "2", "--model.lr", "0.2", *FAST, cwd=project)
    assert fit.returncode == 0, fit.stderr
    run = project / "lightning_logs" / "version_0"
    assert f"Run directory: {run}" in fit.stdout
    assert (run / "metrics.csv").read_text().splitlines()[0].count("epoch") == 1
    assert "lr: 0.2" in (run / "hparams.yaml").read_text()
    checkpoints = sorted((run / "checkpoints").glob("*.ckpt"))
    assert [c.name for c in checkpoints] == ["epoch=1-step=4.ckpt"]
    test = cli("test", "--model", "model.py", "--data", "data.csv", "--ckpt_path", str(checkpoints[0]), *FAST,
               cwd=project)
    assert test.returncode == 0, test.stderr
    assert "test_acc" in test.stdout


def test_bad_flag_in_a_real_process(project: Path) -> None:
    result = cli("fit", "--model", "model.py", "--check_val_every_n_epochs", "2", cwd=project)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "trainer-core fit: error: `--check_val_every_n_epochs` is not an option of trainer-core fit: "
        "`check_val_every_n_epochs` is not a Trainer flag or run option. Did you mean `--check_val_every_n_epoch`?"]


TWO_MODELS = """import trainer_core as pl


class A(pl.LightningModule):
    pass


class B(pl.LightningModule):
    pass
"""


@pytest.mark.parametrize("setup,args,message", [
    (lambda p: (p / "broken.py").write_text("import torch\nclass Net(:\n"), ["--model", "broken.py"],
     "broken.py, line 2: syntax error"),
    (lambda p: (p / "imp.py").write_text("import torch\nimport not_a_module_xyz\n"), ["--model", "imp.py"],
     "imp.py, line 2 (`import not_a_module_xyz`): import failed"),
    (lambda p: (p / "empty.py").write_text("import torch\n"), ["--model", "empty.py"],
     "empty.py defines no LightningModule subclass"),
    (lambda p: (p / "two.py").write_text(TWO_MODELS), ["--model", "two.py"],
     "two.py defines 2 LightningModule classes: A (line 4), B (line 8). Say which one to use, e.g. --model two.py:B"),
    (lambda p: None, ["--model", "model.py", "--data", "missing.csv"], "Data path missing.csv does not exist"),
    (lambda p: (p / "bad.npz").write_text("junk"), ["--model", "model.py", "--data", "bad.npz"],
     "bad.npz is not a valid .npz archive"),
    (lambda p: None, ["--model", "model.py", "--data", "data.csv", "--model.num_classes", "2"],
     "labels out of range"),
    (lambda p: None, ["--model", "model.py", "--max_epochs", "-3"], "`max_epochs=-3` is not valid"),
    (lambda p: (p / "c.yaml").write_text("trainer: {check_val_interval: 2}\n"), ["--config", "c.yaml"],
     "`check_val_interval` is not a Trainer flag. Did you mean `val_check_interval`?"),
    (lambda p: None, ["--data", "data.csv"], "No model given"),
])
def test_bad_input_exits_2_with_one_paragraph(project: Path, capsys: pytest.CaptureFixture[str], setup, args,
                                              message: str) -> None:
    setup(project)
    assert main(["fit", *args, *FAST]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trainer-core fit: error: ") and message in err, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (project / "lightning_logs").exists()


def test_error_in_user_code_shows_traceback_and_exits_1(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = (project / "model.py").read_text().replace("x, y = batch\n        loss", "x, y = batch\n        1 / 0\n"
                                                        "        loss")
    (project / "model.py").write_text(script)
    assert main(["fit", "--model", "model.py", "--data", "data.csv", "--max_epochs", "1", *FAST]) == 1
    err = capsys.readouterr().err
    assert "model.py" in err and "1 / 0" in err and "ZeroDivisionError" in err
    assert err.strip().endswith("the run failed with ZeroDivisionError (traceback above).")


def test_print_config_resolves_class_and_defaults(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "--model", "model.py", "--model.lr", "0.3", "--data", "data.csv", "--max_epochs", "4",
                 "--print_config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["trainer"] == {"max_epochs": 4}
    assert printed["model"] == {"script": "model.py", "class": "TinyClassifier",
                                "init_args": {"num_features": 2, "num_classes": 3, "lr": 0.3, "name": "tiny"}}
    assert printed["data"] == {"path": "data.csv"}
    assert not (project / "lightning_logs").exists()
    # The printed YAML is a config the command line accepts as it is.
    (project / "run.yaml").write_text(yaml.safe_dump(printed))
    assert main(["debug", "--config", "run.yaml", *FAST]) == 0
    assert not (project / "lightning_logs").exists()  # fast_dev_run writes no files


def test_debug_overfit_and_predict(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["debug", "--model", "model.py", "--data", "data.csv", "--overfit_batches", "1", "--max_epochs", "2",
                 *FAST]) == 0
    assert (project / "lightning_logs" / "version_0" / "metrics.csv").is_file()
    assert main(["predict", "--model", "model.py", "--data", "data.csv", *FAST]) == 0
    out = capsys.readouterr().out
    assert f"Predictions saved to: {project / 'lightning_logs' / 'version_1' / 'predictions.pt'}" in out


def test_tune_prints_the_suggestion(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune", "--model", "model.py", "--data", "data.csv", "--tune.lr_find_kwargs",
                 "{'num_training': 20, 'early_stop_threshold': None}", *FAST]) == 0
    assert "Suggested learning rate: " in capsys.readouterr().out


def test_callbacks_from_the_command_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fit", "--model", "model.py", "--data", "data.csv", "--max_epochs", "5", *FAST, "--callbacks",
                 "[{'class_path': 'EarlyStopping', 'init_args': {'monitor': 'val_loss', 'patience': 1, "
                 "'min_delta': 100.0}}]"]) == 0
    assert "Stopped early by EarlyStopping: Monitored metric val_loss did not improve in the last 1 records" \
        in capsys.readouterr().out
    with open(project / "lightning_logs" / "version_0" / "metrics.csv", newline="") as file:
        epochs = {row["epoch"] for row in csv.DictReader(file)}
    assert epochs == {"0", "1"}  # the first check sets the best, the second cannot improve on it by 100: stop


DATAMODULE = """import trainer_core as pl


class Data(pl.LightningDataModule):
    def __init__(self, batch_size: int = 16, root: str = "data", extra=object()):
        super().__init__()
"""


def test_print_config_with_a_datamodule_script(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "dm.py").write_text(DATAMODULE)
    assert main(["validate", "--model", "model.py:TinyClassifier", "--data", "dm.py", "--data.batch_size", "4",
                 "--print_config"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    # Defaults a YAML file cannot hold (extra=object()) are left out.
    assert printed["data"] == {"script": "dm.py", "class": "Data", "init_args": {"batch_size": 4, "root": "data"}}


def test_no_subcommand_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "give a subcommand: fit, validate, test, predict, tune, debug" in capsys.readouterr().err


# Flags whose value is free text (a folder, a file) or a Python object: any string is a valid value for them.
FREE_TEXT = {"plugins", "default_root_dir", "weights_save_path", "resume_from_checkpoint"}


@pytest.mark.parametrize("name", sorted(set(FLAGS) - FREE_TEXT))
def test_every_flag_rejects_nonsense_before_the_script_loads(project: Path, capsys: pytest.CaptureFixture[str],
                                                             name: str) -> None:
    # The script would fail to import, so exit 2 naming the flag proves the flag was checked first.
    (project / "never.py").write_text("raise SystemExit('imported')\n")
    assert main(["fit", "--model", "never.py", f"--{name}", "nonsense value!"]) == 2
    err = capsys.readouterr().err
    assert f"{name}" in err and "nonsense value!" in err and "never.py" not in err, err


def test_ddp_relaunch_of_the_command_line(project: Path) -> None:
    # strategy="ddp" re-runs `python .../trainer_core/__main__.py fit ...` for rank 1: it must import the package
    # (not the package folder's modules) and report once, from rank 0, with the one shared run directory.
    result = cli("fit", "--model", "model.py", "--data", "data.csv", "--max_epochs", "1", "--strategy", "ddp",
                 "--accelerator", "cpu", "--devices", "2", *FAST, cwd=project)
    assert result.returncode == 0, result.stderr[-3000:]
    run = project / "lightning_logs" / "version_0"
    assert result.stdout.count("Run directory:") == 2  # at the start and at the end, rank 0 only
    assert f"Run directory: {run}" in result.stdout
    assert [p.name for p in (project / "lightning_logs").iterdir()] == ["version_0"]
    assert list((run / "checkpoints").glob("*.ckpt"))
