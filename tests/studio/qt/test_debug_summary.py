"""A finished Debug run says what it ran and what it found (the status strip and the empty metric grid)."""

from __future__ import annotations

from studio.models.run_state import RunModel
from studio.qt.debug_summary import debug_summary


def _debug_events(kind: str, *, flags: dict | None = None, losses: tuple[float, ...] = (),
                  console: str = "", latest: dict | None = None, status: str = "finished") -> list[dict]:
    base = {"run_id": "dbg", "time": 1.0}
    events = [{**base, "type": "run_started", "seq": 0, "mode": "debug", "config": {
        "mode": "debug", "debug": kind, "trainer_flags": flags or {}}}]
    for step, loss in enumerate(losses):
        events.append({**base, "type": "metrics", "seq": len(events), "step": step, "epoch": step,
                       "metrics": {"train_loss": loss}})
    if console:
        events.append({**base, "type": "log", "seq": len(events), "level": "info", "stream": "stdout",
                       "text": console})
    events.append({**base, "type": "run_finished", "seq": len(events), "status": status,
                   "reason": "" if status == "finished" else "ValueError: bad", "metrics": latest or {},
                   "result": {"mode": "debug"}})
    return events


def _debug_run(kind: str, **kwargs) -> RunModel:
    model = RunModel()
    model.apply(_debug_events(kind, **kwargs))
    return model


def test_fast_dev_run_says_it_passed_and_that_nothing_was_saved():
    text = debug_summary(_debug_run("fast_dev_run"))
    assert text.startswith("fast_dev_run passed") and "no checkpoint" in text


def test_overfit_batches_says_how_many_batches_and_where_the_loss_went():
    text = debug_summary(_debug_run("overfit_batches", flags={"overfit_batches": 2}, losses=(1.1, 0.4, 0.0059)))
    assert "same 2 training batch(es)" in text and "train_loss went from 1.1 to 0.0059" in text


def test_batch_independence_shows_the_checks_answer():
    answer = "Net keeps the samples of a batch apart: the output for sample 0 depends on input sample 0 only."
    model = _debug_run("batch_independence", console=answer, latest={"batch_independent": 1.0})
    assert debug_summary(model) == f"Batch independence check: {answer}"
    mixed = _debug_run("batch_independence", latest={"batch_independent": 0.0})
    assert "MIXES samples" in debug_summary(mixed)


def test_a_failed_check_or_another_mode_has_no_summary():
    assert debug_summary(_debug_run("fast_dev_run", status="failed")) == ""
    assert debug_summary(RunModel()) == ""


def test_the_status_strip_and_the_empty_grid_show_the_summary(make_window):
    window = make_window()
    window.ensure_views()
    window.show()
    answer = "Net keeps the samples of a batch apart: the output for sample 0 depends on input sample 0 only."
    window.session._on_events(_debug_events("batch_independence", console=answer, latest={"batch_independent": 1.0}))
    window.views.setCurrentWidget(window.metrics_view)
    window.status_view.refresh()
    window.metrics_view.refresh(force=True)
    assert answer in window.status_view.reason.text() and window.status_view.reason.isVisibleTo(window)
    assert answer in window.metrics_view.hint.text() and "Press Fit" not in window.metrics_view.hint.text()


def test_the_summary_and_the_end_reason_read_as_two_sentences(make_window):
    window = make_window()
    events = _debug_events("overfit_batches", losses=(1.0, 0.01))
    events[-1]["reason"] = "stopped early by EarlyStopping: val_loss did not improve"
    window.session._on_events(events)
    window.status_view.refresh()
    assert "(near 0 means the model can learn; a loss that stays high points at the model, the loss or the " \
           "learning rate). Stopped early by EarlyStopping" in window.status_view.reason.text()
