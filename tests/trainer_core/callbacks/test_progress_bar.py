"""ProgressBar: bar totals and names, the postfix, and host reads only at the refresh cadence."""

from __future__ import annotations

import pytest
import torch
from helpers.fake_trainer import FakeLogger, FakeTrainer

from trainer_core.callbacks import ProgressBar


class Module:
    automatic_optimization = True
    truncated_bptt_steps = 0


@pytest.fixture()
def item_calls(monkeypatch) -> list[int]:
    """Counts Tensor.item() calls: each is a device-to-host read (a sync on GPU)."""
    calls: list[int] = []
    original = torch.Tensor.item

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(torch.Tensor, "item", counting)
    return calls


def fit_epoch(bar: ProgressBar, trainer: FakeTrainer, losses: list[float], val_batches: int = 0) -> None:
    module = Module()
    bar.on_train_epoch_start(trainer, module)
    for i, loss in enumerate(losses):
        bar.on_train_batch_end(trainer, module, {"loss": torch.tensor(loss)}, None, i)
    if val_batches:
        bar.on_validation_start(trainer, module)
        for i in range(val_batches):
            bar.on_validation_batch_end(trainer, module, None, None, i)
        bar.on_validation_end(trainer, module)
    bar.on_train_epoch_end(trainer, module)


def test_epoch_bar_total_description_and_postfix(capsys) -> None:
    trainer = FakeTrainer(num_training_batches=4, num_val_batches=[2, 1], val_check_batch=2, current_epoch=3,
                          loggers=[FakeLogger(version=7)], progress_bar_metrics={"val_acc": 0.123456})
    bar = ProgressBar()
    bar.on_train_start(trainer, Module())
    fit_epoch(bar, trainer, [1.0, 2.0, 3.0, 4.0], val_batches=3)
    main = bar.main_progress_bar
    assert main.total == 4 + 3 * 2  # two validation runs of 3 batches in this epoch
    assert main.desc.startswith("Epoch 3")
    assert main.n == 4 + 3
    assert main.postfix == "loss=2.5, v_num=7, val_acc=0.123"
    bar.on_train_end(trainer, Module())
    out = capsys.readouterr().out
    assert "Epoch 3" in out and "Validating" in out


def test_no_validation_in_epochs_that_skip_it() -> None:
    trainer = FakeTrainer(num_training_batches=5, num_val_batches=[3], check_val_every_n_epoch=2, current_epoch=0,
                          val_check_batch=5)
    bar = ProgressBar()
    assert bar.total_val_batches_this_epoch(trainer) == 0
    trainer.current_epoch = 1
    assert bar.total_val_batches_this_epoch(trainer) == 3


def test_running_loss_is_mean_of_last_20() -> None:
    trainer = FakeTrainer(num_training_batches=25)
    bar = ProgressBar(refresh_rate=25)
    bar.on_train_start(trainer, Module())
    fit_epoch(bar, trainer, [float(i) for i in range(1, 26)])
    assert bar.get_metrics(trainer, Module())["loss"] == "15.5"  # mean of 6..25
    bar.on_train_end(trainer, Module())


def test_loss_is_nan_before_the_first_value_and_absent_in_manual_optimization() -> None:
    trainer = FakeTrainer(loggers=[FakeLogger(version="version_abcdef")])
    bar = ProgressBar()
    assert bar.get_metrics(trainer, Module()) == {"loss": "nan", "v_num": "cdef"}
    manual = Module()
    manual.automatic_optimization = False
    assert "loss" not in bar.get_metrics(trainer, manual)


def test_split_idx_shown_with_tbptt() -> None:
    trainer = FakeTrainer()
    trainer.split_idx = 2
    module = Module()
    module.truncated_bptt_steps = 5
    assert ProgressBar().get_metrics(trainer, module)["split_idx"] == 2


def test_host_reads_only_at_refresh_cadence(item_calls, capsys) -> None:
    trainer = FakeTrainer(num_training_batches=20)
    bar = ProgressBar(refresh_rate=5)
    bar.min_redraw_interval_s = 0.0  # count the cadence alone (the time throttle is tested below)
    module = Module()
    bar.on_train_start(trainer, module)
    bar.on_train_epoch_start(trainer, module)
    counts = []
    for i in range(20):
        bar.on_train_batch_end(trainer, module, {"loss": torch.tensor(float(i))}, None, i)
        counts.append(len(item_calls))
    # one read when batches 5, 10, 15 and 20 complete, none in between
    assert counts == [0] * 4 + [1] * 5 + [2] * 5 + [3] * 5 + [4]
    bar.on_train_end(trainer, module)


def test_refresh_rate_zero_disables(item_calls, capsys) -> None:
    trainer = FakeTrainer(num_training_batches=3, num_val_batches=[2])
    bar = ProgressBar(refresh_rate=0)
    assert bar.is_disabled
    bar.on_train_start(trainer, Module())
    fit_epoch(bar, trainer, [1.0, 2.0, 3.0], val_batches=2)
    bar.on_train_end(trainer, Module())
    assert item_calls == []
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("start", "batch_end", "end", "desc", "attr"),
    [
        ("on_sanity_check_start", "on_validation_batch_end", "on_sanity_check_end", "Validation sanity check",
         "num_sanity_val_batches"),
        ("on_test_start", "on_test_batch_end", "on_test_end", "Testing", "num_test_batches"),
        ("on_predict_start", "on_predict_batch_end", "on_predict_end", "Predicting", "num_predict_batches"),
    ],
)
def test_stage_bars(capsys, start: str, batch_end: str, end: str, desc: str, attr: str) -> None:
    trainer = FakeTrainer(sanity_checking=start == "on_sanity_check_start")
    setattr(trainer, attr, [2])
    bar = ProgressBar()
    getattr(bar, start)(trainer, Module())
    for i in range(2):
        getattr(bar, batch_end)(trainer, Module(), None, None, i)
    shown = bar.val_progress_bar or bar.test_progress_bar or bar.predict_progress_bar
    assert (shown.n, shown.total) == (2, 2)
    getattr(bar, end)(trainer, Module())
    assert desc in capsys.readouterr().out


def test_bad_refresh_rate() -> None:
    with pytest.raises(ValueError, match="refresh_rate"):
        ProgressBar(refresh_rate=-1)


def test_redraws_are_throttled_in_time(item_calls, monkeypatch, capsys) -> None:
    clock = [0.0]
    monkeypatch.setattr("trainer_core.callbacks.progress.time.monotonic", lambda: clock[0])
    trainer = FakeTrainer(num_training_batches=30)
    bar = ProgressBar(refresh_rate=1)
    module = Module()
    bar.on_train_start(trainer, module)
    bar.on_train_epoch_start(trainer, module)
    for i in range(30):
        clock[0] += 0.01  # 100 batches a second
        bar.on_train_batch_end(trainer, module, {"loss": torch.tensor(1.0)}, None, i)
    # first batch, then every 10th (0.1 s), and always the last batch: 1, 11, 21, 30
    assert len(item_calls) == 4
    assert bar.main_progress_bar.n == 30
    bar.on_train_end(trainer, module)


def test_the_running_loss_takes_every_output_form(monkeypatch) -> None:
    """A plain {"loss": tensor} is kept without the helper; several optimizers' and graph-carrying losses with it."""
    helper_calls = []
    from trainer_core.callbacks import progress

    original = progress._losses_in
    monkeypatch.setattr(progress, "_losses_in", lambda outputs: helper_calls.append(outputs) or original(outputs))
    trainer = FakeTrainer(num_training_batches=4)
    bar = ProgressBar(refresh_rate=4)
    module = Module()
    bar.on_train_start(trainer, module)
    bar.on_train_epoch_start(trainer, module)
    outputs = [
        {"loss": torch.tensor(1.0)},
        [{"loss": torch.tensor(2.0)}, {"loss": torch.tensor(3.0)}],  # two optimizers
        {"loss": torch.tensor(4.0, requires_grad=True)},  # a graph: detached by the helper
        {"loss": torch.tensor([5.0, 6.0])},  # not a scalar: not a loss the bar shows
    ]
    for i, out in enumerate(outputs):
        bar.on_train_batch_end(trainer, module, out, None, i)
    assert helper_calls and all(seen is not outputs[0] for seen in helper_calls)  # the first form skips it
    assert [loss.item() for loss in bar._losses] == [1.0, 2.0, 3.0, 4.0]
    assert not any(loss.requires_grad for loss in bar._losses)
    assert bar.get_metrics(trainer, module)["loss"] == "2.5"
    bar.on_train_end(trainer, module)
