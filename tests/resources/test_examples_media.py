"""The GAN and autoencoder examples, run as their recommended configs say, log pictures and histograms that land in
the run folder (media/ PNGs referenced by events.jsonl) and in TensorBoard's event file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
SMALL = ["--max_epochs", "1", "--limit_train_batches", "3", "--limit_val_batches", "1", "--log_every_n_steps", "1",
         "--enable_progress_bar", "false", "--seed_everything", "0"]


def _fit(name: str, tmp_path: Path) -> tuple[Path, list[dict]]:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-m", "trainer_core", "fit", "--config", str(EXAMPLES / f"{name}.yaml"),
                          *SMALL, "--default_root_dir", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    run = sorted((tmp_path / "lightning_logs").glob("version_*"))[-1]
    events = [json.loads(line) for line in (run / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(p.name.startswith("events.out.tfevents") for p in run.iterdir()), "TensorBoard's file is there too"
    return run, events


def test_gan_config_logs_generated_samples_with_the_sampler(tmp_path: Path) -> None:
    run, events = _fit("gan", tmp_path)
    images = [e for e in events if e["type"] == "image"]
    assert [e["tag"] for e in images] == ["RingGAN_images"]
    picture = Image.open(run / images[0]["path"])
    assert picture.size == (64, 64)


def test_autoencoder_config_logs_reconstructions_and_layer_histograms(tmp_path: Path) -> None:
    run, events = _fit("autoencoder", tmp_path)
    images = [e for e in events if e["type"] == "image"]
    assert [e["tag"] for e in images] == ["reconstructions"]
    assert (images[0]["width"], images[0]["height"]) == (8 * 10 + 2, 2 * 10 + 2)  # 8 columns x 2 rows of 8x8 + pad
    assert (run / images[0]["path"]).is_file()
    tags = {e["tag"] for e in events if e["type"] == "histogram"}
    assert tags == {"input/encoder", "output/encoder", "input/decoder", "output/decoder"}
    steps = sorted({e["step"] for e in events if e["type"] == "histogram" and e["tag"] == "output/encoder"})
    assert steps == [0, 1, 2], "every step with log_every_n_steps=1"
