"""Every bundled example trains through the command line in a subprocess, with its recommended YAML, so none can rot.

Each run is cut to a few batches (``--limit_train_batches 3``); the assertions check what a user would look at:
exit status 0, the metrics the example logs in metrics.csv, its arguments in hparams.yaml, a checkpoint, and the
event stream the studio plots.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"

# example -> (metric columns metrics.csv must have, an hparams.yaml key, extra command-line arguments)
CASES = {
    "mlp_classifier": ({"train_loss", "val_loss", "val_acc"}, "hidden_size", ["--model.hidden_size", "24"]),
    "autoencoder": ({"train_recon", "val_recon", "grad_2.0_norm_total_step", "grad_2.0_norm_total_epoch", "lr-AdamW"},
                    "code_size", []),
    "lstm_tbptt": ({"train_mse", "val_mse"}, "tbptt_steps", []),
    "gan": ({"g_loss", "d_loss", "val_mode_dist", "val_modes_hit"}, "latent_dim", []),
    "cnn_images": ({"train_loss", "val_loss", "val_acc"}, "channels", []),
    "datamodule_example": ({"train_mse", "val_mse"}, "hidden_size", []),
}
SMALL = ["--max_epochs", "1", "--limit_train_batches", "3", "--limit_val_batches", "2", "--log_every_n_steps", "1",
         "--enable_progress_bar", "false", "--seed_everything", "0"]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    cache = tmp_path_factory.mktemp("cache")  # cnn_images and datamodule_example write their data here, once
    # One torch thread: on a busy 2-core machine, idle-spinning OpenMP threads make tiny models 10-50x slower.
    return dict(os.environ, TRAINING_STUDIO_CACHE=str(cache), OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))


def cli(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trainer_core", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def run_dir(root: Path) -> Path:
    versions = sorted((root / "lightning_logs").glob("version_*"))
    assert versions, f"no run directory under {root}"
    return versions[-1]


def metric_columns(metrics_csv: Path) -> set[str]:
    with metrics_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, f"{metrics_csv} has no rows"
    # A column counts when at least one row has a value in it.
    return {k for k in rows[0] if any(r.get(k) not in (None, "") for r in rows)}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_fits_through_the_cli(name, tmp_path, env):
    metrics, hparam, extra = CASES[name]
    config = EXAMPLES / f"{name}.yaml"
    out = cli(["fit", "--config", str(config), *SMALL, "--default_root_dir", str(tmp_path), *extra], tmp_path, env)
    assert out.returncode == 0, f"{name} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    run = run_dir(tmp_path)
    assert str(run) in out.stdout + out.stderr, "the CLI prints the run directory"
    missing = metrics - metric_columns(run / "metrics.csv")
    assert not missing, f"{name}: metrics.csv lacks {missing}"
    assert {"epoch", "step"} <= set(next(csv.reader((run / "metrics.csv").open())))
    hparams = yaml.safe_load((run / "hparams.yaml").read_text())
    assert hparam in hparams, f"{name}: hparams.yaml lacks {hparam}: {hparams}"
    assert list((run / "checkpoints").glob("*.ckpt")), f"{name}: no checkpoint written"
    assert (run / "events.jsonl").stat().st_size > 0
    if name == "mlp_classifier":
        assert hparams["hidden_size"] == 24  # the command line wins over the YAML (64)
        assert hparams["batch_size"] == 32  # from the YAML's init_args


def test_cnn_example_folder_also_loads_with_the_cli_image_loader(tmp_path, env):
    # Write the pictures the way the example's prepare_data does, then train on them through `--data PATH`.
    spec = importlib.util.spec_from_file_location("cnn_images_example", EXAMPLES / "cnn_images.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    folder = tmp_path / "shapes"
    example.generate(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["circle", "square", "triangle"]
    pictures = sorted((folder / "circle").glob("*.png"))
    assert len(pictures) == example.PER_CLASS
    assert example.read_png(pictures[0]).shape == (example.SIZE, example.SIZE)
    out = cli(["fit", "--model", str(EXAMPLES / "cnn_images.py"), "--model.data_dir", str(folder), "--data",
               str(folder), "--data.batch_size", "16", *SMALL, "--default_root_dir", str(tmp_path)], tmp_path, env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert {"train_loss", "val_acc"} <= metric_columns(run_dir(tmp_path) / "metrics.csv")


def test_new_project_template_fits_as_written(tmp_path, env):
    sys.path.insert(0, str(ROOT))
    from resources import new_project_template

    script = tmp_path / "my_project.py"
    script.write_text(new_project_template("MyProject"))
    out = cli(["fit", "--model", str(script), *SMALL, "--default_root_dir", str(tmp_path)], tmp_path, env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert {"train_loss", "val_loss", "val_acc"} <= metric_columns(run_dir(tmp_path) / "metrics.csv")


@pytest.mark.parametrize("name", ["mlp_classifier", "gan"])
def test_example_tune_section_runs(name, tmp_path, env):
    out = cli(["tune", "--config", str(EXAMPLES / f"{name}.yaml"), "--enable_progress_bar", "false",
               "--default_root_dir", str(tmp_path)], tmp_path, env)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout + out.stderr
    suggested = re.search(r"Suggested learning rate: ([0-9.e-]+)", text)
    if name == "mlp_classifier":
        assert suggested is not None, text[-2000:]
        assert 1e-4 < float(suggested.group(1)) < 1.0
        # The YAML caps the finder at 3 doubling trials from 16.
        assert re.search(r"Batch size found: (32|64|128)\b", text), text[-2000:]
    else:  # two optimizers: the YAML runs the batch-size finder only (3 trials from 32)
        assert suggested is None
        assert re.search(r"Batch size found: (64|128|256)\b", text), text[-2000:]


def test_default_example_runs_as_a_plain_script(tmp_path, env):
    # `python resources/examples/mlp_classifier.py` trains with its own Trainer(max_epochs=30) and early stopping.
    out = subprocess.run([sys.executable, str(EXAMPLES / "mlp_classifier.py")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    run = run_dir(tmp_path)  # the default logger writes ./lightning_logs/version_0
    rows = list(csv.DictReader((run / "metrics.csv").open(newline="")))
    accuracies = [float(r["val_acc"]) for r in rows if r.get("val_acc")]
    assert max(accuracies) > 0.85, accuracies
