"""End to end: Tune from the window runs the finders in a child process; the dashboards follow it live and Apply
writes the results into the forms (one real run, a few seconds)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.timeout(180)


def test_tune_from_the_window_feeds_the_finder_views_and_apply(qtbot, window):
    tune = {"lr_find": True, "scale_batch_size": True,
            "lr_find_kwargs": {"num_training": 25},
            "scale_batch_size_kwargs": {"mode": "power", "init_val": 16, "max_trials": 2}}
    assert window.launch("tune", overrides={"tune": tune})
    finder = window.dashboard_views["LR finder"]
    qtbot.waitUntil(lambda: window.views.currentWidget() is finder)  # a Tune run brings its finder forward
    with qtbot.waitSignal(window.session.run_ended, timeout=150_000) as ended:
        pass
    assert ended.args[0] == "finished", window.session.model.reason
    finder.refresh(force=True)
    assert 2 <= len(finder.curve.lr) <= 25 and finder.curve.reported
    assert finder.curve.suggestion is not None and finder.apply_button.isEnabled()
    finder.apply()
    assert window.model_form.values()[0]["lr"] == pytest.approx(float(f"{finder.curve.suggestion:.3g}"))

    sizes = window.dashboard_views["Batch size"]
    window.views.setCurrentWidget(sizes)
    sizes.refresh(force=True)
    assert [row[0] for row in sizes.trials.rows] == [16, 32][: len(sizes.trials.rows)]
    assert sizes.trials.result in (16, 32)
    sizes.apply()
    # The example's batch size is a model argument: Apply sets it (and the data-file spin box).
    assert window.model_form.values()[0].get("batch_size", 32) == sizes.trials.result
