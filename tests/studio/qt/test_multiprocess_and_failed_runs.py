"""Multi-process runs started from the studio, and failed runs that must still show up in Runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_devices_2_on_cpu_streams_rank_zero_into_the_views(make_window, qtbot, scripts):
    window = make_window(str(scripts / "tiny_model.py"))
    window.trainer_form.set_values({"max_epochs": 2, "devices": 2, "accelerator": "cpu"})
    assert window.launch("fit"), window.problems.text()
    with qtbot.waitSignal(window.session.run_ended, timeout=240_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()[-4000:]
    model = window.session.model
    # Rank 0's events reached the views live: per-epoch points of its logged metrics and its progress.
    x, _ = model.metrics.series("val_loss").view()
    assert len(x) == 2 and model.progress.epoch == 1
    lines = [json.loads(line) for line in (Path(model.log_dir) / "events.jsonl").read_text().splitlines()]
    assert sum(e["type"] == "run_started" for e in lines) == 1  # one stream: rank 0's
    assert lines[-1]["type"] == "run_finished" and lines[-1]["status"] == "finished"


def test_a_run_failing_before_its_run_folder_is_listed_in_runs_with_its_error(make_window, qtbot, tmp_path,
                                                                              studio_env):
    from studio.models.dashboards.history import scan_runs

    script = tmp_path / "broken_init.py"
    script.write_text("import trainer_core as pl\n\n\nclass Broken(pl.LightningModule):\n"
                      "    def __init__(self):\n        super().__init__()\n"
                      "        raise RuntimeError('no weights for you')\n")
    window = make_window(str(script))
    assert window.launch("fit"), window.problems.text()
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "failed"
    runs = scan_runs(studio_env / "runs")
    assert len(runs) == 1 and runs[0].status == "failed" and runs[0].mode == "fit"
    assert window.session.model.log_dir == runs[0].path
    window.session.open_run(runs[0].path)
    assert "no weights for you" in window.session.model.reason


def test_a_run_that_crashes_natively_is_listed_as_failed_with_its_reason(make_window, qtbot, scripts, studio_env):
    from studio.models.dashboards.history import scan_runs

    window = make_window(str(scripts / "tiny_model.py"))
    window.model_form.rows["crash"].widget.setText("segfault")
    assert window.launch("fit"), window.problems.text()
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "failed"
    runs = [run for run in scan_runs(studio_env / "runs") if run.path == window.session.model.log_dir]
    assert len(runs) == 1 and runs[0].status == "failed"
    lines = (Path(window.session.model.log_dir) / "events.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["type"] == "run_finished" and last["reason"] == ended.args[1] and ended.args[1]
