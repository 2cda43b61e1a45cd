"""Every empty view names the one action that fills it, and that action exists in the studio (issue 17, bug 9)."""

from __future__ import annotations

import re

import pytest


def test_gradients_empty_state_names_the_flag_group_that_holds_track_grad_norm(window_with_views):
    window = window_with_views
    text = window.dashboard_views["Gradients"].status.text()
    group = window.trainer_form.schema.flags["track_grad_norm"].group
    assert f"Trainer tab > {group}" in text
    assert "track_grad_norm" in window.trainer_form.rows


def test_learning_rate_empty_state_points_to_a_callback_the_box_offers(window_with_views):
    window = window_with_views
    text = window.dashboard_views["Learning rate"].note.text()
    assert "LearningRateMonitor" in text and "More callbacks" in text
    box = window.trainer_form.callbacks
    box.optional["LearningRateMonitor"].check.setChecked(True)
    box.optional["LearningRateMonitor"].fields["logging_interval"].setCurrentText("step")
    box.optional["DeviceStatsMonitor"].check.setChecked(True)
    flags, problems = window.trainer_form.values()
    assert problems == []
    assert {"class_path": "LearningRateMonitor", "init_args": {"logging_interval": "step"}} in flags["callbacks"]
    assert {"class_path": "DeviceStatsMonitor", "init_args": {}} in flags["callbacks"]


def test_tick_box_callbacks_round_trip_with_arguments_they_have_no_field_for(window_with_views):
    box = window_with_views.trainer_form.callbacks
    entries = [{"class_path": "StochasticWeightAveraging", "init_args": {"swa_epoch_start": 0.5, "swa_lrs": 0.01}},
               {"class_path": "LearningRateMonitor", "init_args": {"logging_interval": None, "log_momentum": True}},
               {"class_path": "ModelSummary", "init_args": {"max_depth": -1}}]
    box.set_value(entries)
    value, _ = box.value()
    assert sorted(value, key=str) == sorted(entries, key=str)


@pytest.mark.parametrize("title", ["Checkpoints", "Weights", "Profiler"])
def test_table_views_say_which_run_fills_them(window_with_views, title):
    text = window_with_views.dashboard_views[title].info.text()
    assert re.search(r"run a Fit", text, re.IGNORECASE), text
