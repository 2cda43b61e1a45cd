import pytest

from studio.models.run_state import Progress, RunModel, load_events


def ev(event_type, **fields):
    return {"type": event_type, "run_id": "r", "seq": 0, "time": fields.pop("time", 100.0), **fields}


def test_a_run_from_start_to_finish():
    model = RunModel()
    model.reset(mode="fit")
    assert model.status == "starting"
    seen = model.apply([
        ev("run_started", mode="fit", log_dir="/runs/v0", pid=1, config={}),
        ev("stage_started", stage="fit", max_epochs=3, max_steps=-1, num_batches=None),
        ev("epoch_started", stage="train", epoch=0, step=0, num_batches=10),
        ev("progress", stage="train", epoch=0, step=1, batch=1, num_batches=10, metrics={"loss": 2.0, "acc": 0.5}),
        ev("metrics", step=0, epoch=0, metrics={"train_loss": 2.0}),
        ev("metrics", step=1, epoch=0, metrics={"train_loss": 1.5}),
        ev("epoch_finished", stage="validate", epoch=0, step=10, metrics={"val_loss": 1.0, "train_loss": 1.4}),
        ev("log", level="warning", stream="warnings", text="careful\nsecond line"),
        ev("checkpoint_saved", path="/runs/v0/checkpoints/last.ckpt", kind="last", epoch=0, step=10),
        ev("run_finished", status="finished", reason="", metrics={"val_loss": 1.0}, result={"log_dir": "/runs/v0"}),
    ])
    assert {"run_started", "progress", "metrics", "epoch_finished", "run_finished"} <= seen
    assert model.status == "finished" and model.ended and model.log_dir == "/runs/v0"
    assert model.metrics.series("train_loss").kind == "step"  # two points in epoch 0
    assert model.metrics.series("val_loss").kind == "epoch"
    assert len(model.metrics.series("train_loss")) == 2  # the epoch summary does not add a third point
    assert "acc" not in model.metrics  # progress-bar values are shown, not plotted
    assert model.latest["acc"] == 0.5
    assert [line for _, line in model.console][-2:] == ["careful", "second line"]
    assert model.checkpoints == ["/runs/v0/checkpoints/last.ckpt"]


def test_exception_event_goes_to_the_console_with_the_user_line():
    model = RunModel()
    model.apply([ev("exception", exc_type="ValueError", message="bad", traceback="Traceback ...",
                    user_frame={"file": "/x/model.py", "line": 12, "function": "f", "code": "raise"})])
    text = "\n".join(line for _, line in model.console)
    assert "ValueError: bad (/x/model.py, line 12)" in text and "Traceback" in text


def test_end_is_kept_once():
    model = RunModel()
    model.reset(mode="fit")
    model.end("failed", "exit code -9")
    model.end("finished")
    assert (model.status, model.reason) == ("failed", "exit code -9")


def test_progress_rate_and_eta():
    progress = Progress(max_epochs=2)
    progress.update("train", 0, 0, 0, 100, when=0.0)
    progress.update("train", 0, 50, 50, 100, when=0.1)  # too soon: no rate yet
    assert progress.batches_per_s is None
    progress.update("train", 0, 50, 50, 100, when=0.5)
    progress.update("train", 0, 100, 100, 100, when=1.0)
    assert progress.batches_per_s == pytest.approx(100.0)
    progress.update("train", 1, 150, 50, 100, when=1.5)
    assert progress.eta_s() == pytest.approx(0.5)  # 50 left in the last epoch at 100 batches/s
    assert progress.fraction() == 0.5


def test_the_fit_eta_stays_sane_during_validation():
    progress = Progress(max_epochs=3)
    for batch in range(0, 101, 10):  # epoch 0 at 100 batches/s
        progress.update("train", 0, batch, batch, 100, when=batch / 100)
    before = progress.eta_s(now=1.0)
    assert before == pytest.approx(2.0)  # two more epochs of 100 batches
    for batch in range(1, 6):  # five fast validation batches during the next 2 s
        progress.update("validate", 0, 100, batch, 5, when=1.0 + batch * 0.4)
    during = progress.eta_s(now=3.0)
    # Not 00:00 (the validation stage's own end) but the fit's: the time spent validating slows the estimate.
    assert during == pytest.approx(2.0 * 3.0)
    progress.update("train", 1, 101, 1, 100, when=3.01)
    assert progress.eta_s(now=3.01) == pytest.approx(199 * 3.01 / 101, rel=1e-6)  # no jump back to the raw rate


def test_a_rate_is_measured_across_epochs_shorter_than_the_window():
    progress = Progress(max_epochs=100)  # a small GAN: 4 batches per epoch (0.1 s), then a validation (0.1 s)
    for epoch in range(12):
        for batch in range(1, 5):
            progress.update("train", epoch, epoch * 4 + batch, batch, 4, when=epoch * 0.2 + batch * 0.025)
        progress.update("validate", epoch, epoch * 4 + 4, 1, 1, when=epoch * 0.2 + 0.15)
        assert epoch < 5 or progress.batches_per_s is not None  # shown during the validations too
    progress.update("train", 12, 49, 1, 4, when=12 * 0.2 + 0.025)
    assert progress.batches_per_s == pytest.approx(20.0, rel=0.05)  # training batches per second of the run


def test_load_events_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"type": "log", "text": "a"}\n\n{"type": "lo')
    assert load_events(path) == [{"type": "log", "text": "a"}]


def test_a_failed_run_shows_the_step_it_failed_at():
    model = RunModel()
    model.reset(mode="fit")
    model.apply([{"type": "progress", "stage": "train", "epoch": 0, "step": 3, "batch": 3, "num_batches": 100,
                  "time": 1.0},
                 {"type": "exception", "exc_type": "ValueError", "message": "bad batch", "traceback": "",
                  "user_frame": None, "epoch": 0, "step": 41}])
    assert model.progress.step == 41


def test_the_callback_metrics_alias_of_a_step_and_epoch_metric_is_not_plotted():
    """``self.log(name, on_step=True, on_epoch=True)`` reaches loggers as name_step / name_epoch; the bare name in the
    epoch summary flips between the two and would draw a third, misleading series."""
    model = RunModel()
    model.reset(mode="fit")
    after_val = {"g/w": 2.0, "g/w_step": 2.0, "g/w_epoch": 3.0}
    after_train = {"g/w": 3.0, "g/w_step": 2.0, "g/w_epoch": 3.0}
    model.apply([
        ev("run_started", mode="fit", log_dir="/runs/v0", pid=1, config={}),
        ev("metrics", step=4, epoch=0, metrics={"g/w_step": 2.0}),
        ev("epoch_finished", stage="validate", epoch=0, step=5, metrics=after_val),
        ev("epoch_finished", stage="train", epoch=0, step=5, metrics=after_train),
    ])
    assert "g/w" not in model.metrics
    assert model.metrics.series("g/w_epoch").kind == "epoch"
    assert model.latest["g/w"] == 3.0  # still shown as the latest value
