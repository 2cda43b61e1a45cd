"""GPU and system samples cover the whole run whatever tab is visible, and come back with a reopened run."""

from __future__ import annotations

import json
import os
from pathlib import Path

from dashboard_helpers import FakeNvml

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def test_samples_are_taken_while_another_tab_is_shown_and_saved_with_the_run(qtbot, window):
    from studio.models.dashboards.system import GpuSampler
    from studio.services.session import RunSession

    window.session.system.gpu = GpuSampler(FakeNvml())
    window.session.system.timer.setInterval(200)
    assert window.open_script(str(SCRIPTS / "tiny_model.py"))
    window.model_form.rows["step_sleep"].widget.setText("0.05")
    window.trainer_form.set_values({"max_epochs": 2})
    assert window.launch("fit"), window.problems.text()
    system_view = window.dashboard_views["GPU and system"]
    assert not system_view.isVisible()  # the Metrics tab is in front for the whole run
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    samples = window.session.model.extras["system_sample"]
    assert len(samples) >= 3
    assert samples[0]["cpu_percent"] is None  # the first look only primes the CPU counter
    assert all(s["cpu_percent"] is not None for s in samples[1:] if s["pid"] is not None)
    assert samples[-1]["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"
    saved = Path(window.session.model.log_dir) / "system.jsonl"
    lines = [json.loads(line) for line in saved.read_text().splitlines()]
    assert len(lines) == len(samples)

    other = RunSession()
    try:
        other.open_run(window.session.model.log_dir)
        assert len(other.model.extras["system_sample"]) == len(samples)
    finally:
        other.shutdown()
    window.session.open_run(os.path.dirname(saved))
    window.views.setCurrentWidget(system_view)
    system_view.sample()
    x, _ = system_view.ram_curve.getData()
    assert len(x) == len(samples) and "samples of this run" in system_view.gpu_label.text()
    assert system_view.gpu_model.table.rows[0][1] == "NVIDIA H100 80GB HBM3"
