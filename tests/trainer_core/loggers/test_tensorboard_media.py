"""The default TensorBoard logger: a 1.x script's ``self.logger.experiment.add_*`` calls reach TensorBoard's event
files (read back with EventAccumulator) and the run's own record (media PNGs and events.jsonl)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import trainer_core as pl
from tests.helpers.boring_model import BoringModel
from trainer_core.loggers import CSVLogger, TensorBoardLogger

pytest.importorskip("tensorboard")


class MediaModel(BoringModel):
    """Logs every kind of media through ``self.logger.experiment`` the way 1.x scripts do."""

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        out = super().training_step(batch, batch_idx)
        self.log("train_loss", out["loss"])
        if batch_idx == 1:
            writer = self.logger.experiment
            image = torch.zeros(3, 4, 6)
            image[0] = 1.0  # pure red
            writer.add_image("samples/red", image, self.global_step)
            writer.add_images("grid", torch.ones(3, 1, 4, 4), self.global_step)
            writer.add_histogram("weights", torch.arange(10.0), self.global_step, bins=5)
            writer.add_text("notes", "hello from step one", self.global_step)
            writer.add_scalar("direct", 3.5, self.global_step)
        return out


def _events(run_dir: str) -> list[dict[str, Any]]:
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture
def finished_run(tmp_path: Path) -> tuple[pl.Trainer, str]:
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=3, limit_val_batches=0,
                         enable_progress_bar=False, enable_model_summary=False, enable_checkpointing=False,
                         log_every_n_steps=1)
    trainer.fit(MediaModel())
    return trainer, str(trainer.log_dir)


def test_default_logger_is_tensorboard_then_csv_in_one_folder(finished_run: tuple[pl.Trainer, str]) -> None:
    trainer, run_dir = finished_run
    assert isinstance(trainer.logger, TensorBoardLogger)
    assert [type(logger) for logger in trainer.loggers] == [TensorBoardLogger, CSVLogger]
    assert trainer.loggers[1].log_dir == run_dir
    files = os.listdir(run_dir)
    assert {"metrics.csv", "events.jsonl", "hparams.yaml"} <= set(files)
    assert any(name.startswith("events.out.tfevents") for name in files)


def test_tensorboard_reads_back_scalars_image_histogram_text(finished_run: tuple[pl.Trainer, str]) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    _trainer, run_dir = finished_run
    accumulator = EventAccumulator(run_dir, size_guidance={"images": 0, "histograms": 0, "tensors": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    assert "direct" in tags["scalars"] and accumulator.Scalars("direct")[0].value == 3.5
    assert set(tags["images"]) == {"samples/red", "grid"}
    red = accumulator.Images("samples/red")[0]
    assert (red.step, red.width, red.height) == (1, 6, 4)
    histogram = accumulator.Histograms("weights")[0].histogram_value
    assert (histogram.min, histogram.max, histogram.num, histogram.sum) == (0.0, 9.0, 10, 45.0)
    assert list(histogram.bucket) == [2, 2, 2, 2, 2]
    text = accumulator.Tensors("notes/text_summary")[0]
    assert b"hello from step one" in text.tensor_proto.string_val[0]


def test_media_lands_in_the_run_record(finished_run: tuple[pl.Trainer, str]) -> None:
    _trainer, run_dir = finished_run
    events = _events(run_dir)
    images = {e["tag"]: e for e in events if e["type"] == "image"}
    assert images["samples/red"]["path"] == "media/samples/red/1.png"
    assert (images["samples/red"]["width"], images["samples/red"]["height"]) == (6, 4)
    pixels = np.asarray(Image.open(os.path.join(run_dir, images["samples/red"]["path"])))
    assert pixels.shape == (4, 6, 3) and (pixels[..., 0] == 255).all() and (pixels[..., 1:] == 0).all()
    grid = np.asarray(Image.open(os.path.join(run_dir, images["grid"]["path"])))
    assert grid.shape == (8, 20)  # three 4x4 tiles in one row with 2-pixel padding, single channel
    histogram = next(e for e in events if e["type"] == "histogram")
    assert histogram["counts"] == [2, 2, 2, 2, 2] and histogram["num"] == 10 and histogram["sum_squares"] == 285.0
    assert next(e for e in events if e["type"] == "text")["text"] == "hello from step one"
    assert any(e["type"] == "metrics" and e["metrics"] == {"direct": 3.5} for e in events)
    finished = [i for i, e in enumerate(events) if e["type"] == "stage_finished"]
    assert max(i for i, e in enumerate(events) if e["type"] == "image") < finished[-1]


def test_a_figure_is_rendered_and_recorded(tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logger = TensorBoardLogger(tmp_path, name="figs")
    seen: list[tuple[str, dict[str, Any]]] = []
    logger.attach_media_listener(lambda kind, **fields: seen.append((kind, fields)))
    figure = plt.figure(figsize=(2, 1), dpi=50)
    logger.experiment.add_figure("plot", figure, global_step=4)
    logger.finalize("success")
    assert seen and seen[0][0] == "image" and seen[0][1]["source"] == "figure"
    assert (seen[0][1]["width"], seen[0][1]["height"]) == (100, 50)
    assert os.path.exists(os.path.join(logger.log_dir, "media", "plot", "4.png"))
    assert not plt.fignum_exists(figure.number), "close=True closes the figure like SummaryWriter does"


def test_histogram_ignores_non_finite_values_and_needs_no_step_from_the_caller(tmp_path: Path) -> None:
    logger = TensorBoardLogger(tmp_path, name="h")
    seen: list[dict[str, Any]] = []
    logger.attach_media_listener(lambda kind, **fields: seen.append(fields), step_source=lambda: 17)
    logger.experiment.add_histogram("x", torch.tensor([1.0, float("nan"), 3.0, float("inf")]), bins=2)
    logger.experiment.add_histogram("same", torch.full((4,), 2.0), bins=3)
    logger.finalize("success")
    assert seen[0]["step"] == 17
    assert (seen[0]["min"], seen[0]["max"], seen[0]["num"], seen[0]["counts"]) == (1.0, 3.0, 2, [1, 1])
    assert seen[1]["counts"] == [4, 0, 0] and seen[1]["min"] == seen[1]["max"] == 2.0


def test_unsafe_tags_stay_inside_the_media_folder(tmp_path: Path) -> None:
    logger = TensorBoardLogger(tmp_path, name="t")
    logger.experiment.add_image("../../escape me", np.zeros((2, 2), np.uint8), 0, dataformats="HW")
    logger.finalize("success")
    media = Path(logger.log_dir) / "media"
    written = [p.relative_to(media).as_posix() for p in media.rglob("*.png")]
    assert written == ["_/_/escape_me/0.png"], "\"..\" parts become \"_\" folders inside media/"


def test_without_tensorboard_the_default_is_csv_and_the_logger_says_what_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer_core.exceptions import MisconfigurationError
    from trainer_core.loggers import tensorboard
    from trainer_core.trainer.defaults import make_loggers

    monkeypatch.setattr(tensorboard, "tensorboard_available", lambda: False)
    monkeypatch.setattr("trainer_core.loggers.tensorboard_available", lambda: False)
    with pytest.raises(MisconfigurationError, match=r"pip install tensorboard"):
        TensorBoardLogger(tmp_path)
    assert [type(logger) for logger in make_loggers(True, str(tmp_path), False)] == [CSVLogger]
    assert not os.listdir(tmp_path), "nothing is created before the error"


def test_other_ranks_get_a_writer_that_ignores_every_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trainer_core.loggers import DummyExperiment, rank_zero_only

    monkeypatch.setattr(rank_zero_only, "rank", 1)
    logger = TensorBoardLogger(tmp_path, name="ddp")
    assert isinstance(logger.experiment, DummyExperiment)
    logger.experiment.add_image("x", torch.zeros(3, 2, 2), 0)
    assert not (tmp_path / "ddp").exists()


class TextEachStage(BoringModel):
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        if batch_idx == 0:
            self.logger.experiment.add_text("stage", "fit", self.global_step)
        return super().training_step(batch, batch_idx)

    def test_step(self, batch: Any, batch_idx: int) -> Any:
        if batch_idx == 0:
            self.logger.experiment.add_text("stage", "test", self.global_step)
        return super().test_step(batch, batch_idx)

    def test_dataloader(self) -> Any:
        return self.train_dataloader()


def test_fit_then_test_reports_each_call_once(tmp_path: Path) -> None:
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=1, limit_train_batches=2, limit_val_batches=0,
                         limit_test_batches=2, enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=False)
    model = TextEachStage()
    trainer.fit(model)
    trainer.test(model, verbose=False)
    texts = [e["text"] for e in _events(str(trainer.log_dir)) if e["type"] == "text"]
    assert texts == ["fit", "test"]
