"""The run status strip says where a run is in words a reader takes the right way."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.qt.status_view import epoch_text

FIT_RUN = Path(__file__).resolve().parents[1] / "fixtures" / "dashboard_fit"


@pytest.mark.parametrize(("epoch", "max_epochs", "text"), [
    (0, 6, "epoch 1 of 6"), (5, 6, "epoch 6 of 6"), (5, None, "epoch 5"), (3, -1, "epoch 3"), (9, 6, "epoch 6 of 6"),
])
def test_epoch_text_counts_from_one_when_the_total_is_known(epoch, max_epochs, text):
    assert epoch_text(epoch, max_epochs) == text


def test_a_finished_fit_shows_its_last_epoch_as_the_last_of_all(make_window):
    window = make_window()
    window.session.open_run(FIT_RUN)  # a 6-epoch fit; its last epoch is number 5 counted from 0
    window.status_view.refresh()
    assert window.session.model.progress.epoch == 5 and window.session.model.progress.max_epochs == 6
    where = window.status_view.where.text()
    assert "epoch 6 of 6" in where  # "epoch 5/6" on a FINISHED run read as one epoch short
    assert "from 0" in window.status_view.where.toolTip()


def test_a_tune_run_shows_no_epoch_count(make_window):
    window = make_window()
    model = window.session.model
    model.mode, model.progress.stage, model.progress.max_epochs = "tune", "tune", 40
    window.status_view.refresh()
    where = window.status_view.where.text()
    assert where == "stage tune · step 0"  # "epoch 1 of 40" on a finished Tune read as a fit cut short
