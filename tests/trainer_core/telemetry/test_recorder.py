import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.telemetry import EventRecorder, describe_exception


def fake_trainer(tmp_path, **extra):
    logger = SimpleNamespace(log_dir=str(tmp_path))
    defaults = dict(log_dir=str(tmp_path), logger=logger, loggers=[logger], callbacks=[], current_epoch=0,
                    global_step=0,
                    num_training_batches=4, callback_metrics={"val_loss": torch.tensor(0.5)},
                    progress_bar_metrics={"acc": 0.9}, max_epochs=2, max_steps=-1, sanity_checking=False,
                    checkpoint_callbacks=[], state=SimpleNamespace(status="running", stage="fit"))
    defaults.update(extra)
    trainer = SimpleNamespace(**defaults)
    return trainer


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_events_go_to_file_and_sink_in_order_with_common_keys(tmp_path):
    seen = []
    recorder = EventRecorder(sink=seen.append, run_id="r1", mode="fit")
    trainer = fake_trainer(tmp_path)
    trainer.callbacks = [recorder]
    module = nn.Linear(2, 1)
    recorder.setup(trainer, module, "fit")
    recorder.on_train_epoch_start(trainer, module)
    recorder.on_train_batch_end(trainer, module, {"loss": torch.tensor(1.25)}, None, 0)
    recorder.on_log_metrics(trainer, module, {"train_loss": 1.0, "epoch": 0.0}, 0)
    recorder.on_validation_end(trainer, module)
    recorder.teardown(trainer, module, "fit")
    events = read(tmp_path / "events.jsonl")
    assert [e["type"] for e in events] == [e["type"] for e in seen]
    assert [e["type"] for e in events] == ["run_started", "model_summary", "stage_started", "epoch_started",
                                           "progress", "metrics", "epoch_finished", "stage_finished"]
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert all(e["run_id"] == "r1" and isinstance(e["time"], float) for e in events)
    progress = events[4]
    assert progress["metrics"] == {"acc": pytest.approx(0.9), "loss": 1.25} and progress["num_batches"] == 4
    assert events[5]["metrics"] == {"train_loss": 1.0} and events[5]["epoch"] == 0
    assert events[6]["metrics"] == {"val_loss": 0.5}
    assert events[1]["total_params"] == 3
    assert events[-1]["status"] == "finished"


def test_progress_is_throttled_but_the_last_batch_always_reported(tmp_path):
    recorder = EventRecorder(write_file=False, progress_interval=3600)
    seen = []
    recorder.sink = seen.append
    trainer = fake_trainer(tmp_path)
    for batch_idx in range(4):
        recorder.on_train_batch_end(trainer, None, torch.tensor(1.0), None, batch_idx)
    assert [e["batch"] for e in seen] == [1, 4]


def test_the_epoch_batch_count_is_read_once_per_epoch(tmp_path):
    reads = []

    class CountingTrainer(SimpleNamespace):
        @property
        def num_training_batches(self):
            reads.append(1)
            return 4

    base = vars(fake_trainer(tmp_path))
    base.pop("num_training_batches")
    trainer = CountingTrainer(**base)
    seen = []
    recorder = EventRecorder(sink=seen.append, write_file=False, progress_interval=3600)
    recorder.on_train_epoch_start(trainer, None)
    for batch_idx in range(4):
        recorder.on_train_batch_end(trainer, None, torch.tensor(1.0), None, batch_idx)
    assert len(reads) == 1
    progress = [e for e in seen if e["type"] == "progress"]
    assert [(e["batch"], e["num_batches"]) for e in progress] == [(1, 4), (4, 4)]


def test_events_after_teardown_are_appended_and_before_setup_are_kept(tmp_path):
    recorder = EventRecorder()
    recorder.emit("log", level="info", stream="stdout", text="early")
    trainer = fake_trainer(tmp_path)
    trainer.callbacks = [recorder]
    recorder.setup(trainer, nn.Linear(1, 1), "fit")
    recorder.teardown(trainer, nn.Linear(1, 1), "fit")
    recorder.emit("run_finished", status="finished", reason="", metrics={}, result={})
    types = [e["type"] for e in read(tmp_path / "events.jsonl")]
    assert types[0] == "log" and types[-1] == "run_finished"


def test_only_one_of_two_default_recorders_writes_the_file(tmp_path):
    studio = EventRecorder(sink=lambda e: None)
    engine_default = EventRecorder()
    trainer = fake_trainer(tmp_path)
    trainer.callbacks = [engine_default, studio]
    engine_default.setup(trainer, nn.Linear(1, 1), "fit")
    studio.setup(trainer, nn.Linear(1, 1), "fit")
    assert studio.write_file and not engine_default.write_file
    studio.close()


def test_a_failing_sink_is_disconnected_not_raised(tmp_path):
    def broken(event):
        raise RuntimeError("consumer gone")

    recorder = EventRecorder(sink=broken, write_file=False)
    recorder.emit("log", level="info", stream="x", text="a")
    assert recorder.sink is None


def test_describe_exception_points_at_the_user_file(tmp_path):
    script = tmp_path / "user.py"
    script.write_text("def f():\n    raise ValueError('boom')\n")
    namespace = {}
    exec(compile(script.read_text(), str(script), "exec"), namespace)
    try:
        namespace["f"]()
    except ValueError as error:
        info = describe_exception(error, user_file=str(script))
    assert info["exc_type"] == "ValueError" and info["message"] == "boom"
    assert info["user_frame"]["line"] == 2 and info["user_frame"]["file"] == str(script)
    assert "Traceback" in info["traceback"]


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        loss = nn.functional.mse_loss(self.layer(batch[0]), batch[1])
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val_loss", nn.functional.mse_loss(self.layer(batch[0]), batch[1]))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        x = torch.randn(16, 2)
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=4)

    val_dataloader = train_dataloader


def test_real_fit_writes_the_stream_into_the_run_directory(tmp_path):
    seen = []
    recorder = EventRecorder(sink=seen.append, progress_interval=0)
    trainer = pl.Trainer(max_epochs=2, default_root_dir=str(tmp_path), callbacks=[recorder], log_every_n_steps=1,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Tiny())
    path = tmp_path / "lightning_logs" / "version_0" / "events.jsonl"
    events = read(path)
    types = [e["type"] for e in events]
    assert types[0] == "run_started" and types[-1] == "stage_finished"
    assert events[-1]["status"] == "finished"
    assert types.count("epoch_started") == 2
    train_progress = [e for e in events if e["type"] == "progress" and e["stage"] == "train"]
    assert len(train_progress) == 8 and train_progress[-1]["step"] == 8
    validated = [e for e in events if e["type"] == "epoch_finished" and e["stage"] == "validate"]
    assert len(validated) == 2 and "val_loss" in validated[-1]["metrics"]
    logged_steps = [e["step"] for e in events if e["type"] == "metrics" and "train_loss" in e["metrics"]]
    assert logged_steps == list(range(8))
    assert any(e["type"] == "checkpoint_saved" for e in events)
    assert len(seen) == len(events)


def test_keyboard_interrupt_marks_the_stage_interrupted(tmp_path):
    class Stopper(pl.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0):
            raise KeyboardInterrupt

    recorder = EventRecorder()
    trainer = pl.Trainer(max_epochs=1, default_root_dir=str(tmp_path), callbacks=[recorder, Stopper()],
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Tiny())
    events = read(tmp_path / "lightning_logs" / "version_0" / "events.jsonl")
    assert trainer.interrupted
    assert any(e["type"] == "exception" and e["exc_type"] == "KeyboardInterrupt" for e in events)
    assert [e for e in events if e["type"] == "stage_finished"][-1]["status"] == "interrupted"
