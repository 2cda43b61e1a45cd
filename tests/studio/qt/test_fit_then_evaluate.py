"""After a Fit, Validate/Test/Predict evaluate that fit's weights, say so, and a new Fit starts fresh."""

from __future__ import annotations

import os

import pytest


def _run(window, qtbot, mode):
    assert window.launch(mode), window.problems.text()
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    return window.session.model


def test_validate_after_a_fit_evaluates_the_fits_checkpoint(make_window, qtbot, scripts):
    window = make_window(str(scripts / "tiny_model.py"))
    window.trainer_form.set_values({"max_epochs": 3})
    fit = _run(window, qtbot, "fit")
    fit_val_loss = fit.latest["val_loss"]
    checkpoint = window.project.ckpt_edit.text()
    assert checkpoint and os.path.isfile(checkpoint) and checkpoint in fit.checkpoints
    assert "Last checkpoint of the fit that just ended" in window.project.ckpt_note.text()  # no monitor: the last
    assert not window.project.resume_fit.isChecked()

    validate = _run(window, qtbot, "validate")
    assert validate.extras["run_started"][-1]["config"]["ckpt_path"] == checkpoint
    # The trained weights, not a freshly built model: the same loss the fit's last validation reported.
    assert validate.latest["val_loss"] == pytest.approx(fit_val_loss, rel=1e-5)
    window.status_view.refresh()
    assert window.status_view.weights.full_text() == f"weights: {checkpoint}"

    again = _run(window, qtbot, "fit")
    assert again.extras["run_started"][-1]["config"]["ckpt_path"] is None  # fresh, not resumed
    assert again.metrics.series("train_loss").view()[0][0] <= 8  # the first epoch again (a resume starts at 24)


def test_the_best_checkpoint_by_the_monitor_is_preferred(tmp_path):
    from studio.qt.main_window import fit_checkpoint

    best, last = tmp_path / "epoch=1.ckpt", tmp_path / "last.ckpt"
    best.write_bytes(b"x")
    last.write_bytes(b"x")
    events = [{"path": str(best), "monitor": "val_acc"}, {"path": str(last), "monitor": "val_acc"}]
    result = {"best_checkpoint": str(best), "last_checkpoint": str(last)}
    assert fit_checkpoint(result, [str(best), str(last)], events) == (str(best), "Best checkpoint by val_acc")
    best.unlink()  # a deleted file is never offered
    assert fit_checkpoint(result, [str(best), str(last)], events) == (str(last), "Last checkpoint")
    last.unlink()
    assert fit_checkpoint(result, [str(best), str(last)], events) is None
