"""Soak: many consecutive short runs from the studio's run controller with random stop/kill (slow; on demand).

Run with ``pytest -m slow tests/reliability/test_reliability_soak.py`` (``SOAK_RUNS`` sets the count, default 50).
Each run is a real training child (the fault model) or the torch-free synthetic producer, ended by one of: finish,
Stop, Stop twice (kill), SIGKILL from outside, an exception in training_step. Afterwards no child process, file
handle, thread or memory may have leaked.
"""

from __future__ import annotations

import os
import random
import signal
import threading

import psutil
import pytest

from studio.models.config import RunConfig
from studio.services.session import RunSession

ENDINGS = ("finish", "stop", "kill", "sigkill", "fail")
EXPECTED = {"finish": {"finished"}, "stop": {"interrupted", "finished"}, "kill": {"interrupted", "finished"},
            "sigkill": {"failed", "finished"}, "fail": {"failed"}}


def _launch(session: RunSession, rng: random.Random, ending: str, faulty: str, runs: str) -> None:
    if rng.random() < 0.5:
        options = {"epochs": 1, "steps_per_epoch": 200 if ending == "finish" else 100_000, "step_delay_s": 0.001,
                   "metrics_per_step": rng.choice([1, 20])}
        if ending == "fail":
            options["fail_at_step"] = 5
        session.launch(RunConfig(model_script="synthetic.py"), "fit", runs, synthetic=options)
        return
    init = {"step_sleep": 0.005} if ending != "finish" else {}
    if ending == "fail":
        init = {"fail_in": "training_step", "fail_at": 3}
    config = RunConfig(model_script=faulty, model_init_args=init,
                       trainer_flags={"max_epochs": 1 if ending == "finish" else 1000, "log_every_n_steps": 1,
                                      "enable_model_summary": False})
    session.launch(config, "fit", runs)


@pytest.mark.slow
def test_many_runs_with_random_stop_and_kill_leak_nothing(qtbot, faulty, children, tmp_path):
    total = int(os.environ.get("SOAK_RUNS", "50"))
    rng = random.Random(1234)
    me = psutil.Process()
    session = RunSession()
    baseline: dict[str, float] = {}
    ends: list[tuple[str, str]] = []
    session.run_ended.connect(lambda status, reason: ends.append((status, reason)))
    try:
        for index in range(total):
            ending = rng.choice(ENDINGS)
            _launch(session, rng, ending, faulty, str(tmp_path / "runs"))
            if ending in ("stop", "kill", "sigkill"):
                qtbot.waitUntil(lambda: session.model.progress.step >= 2 or not session.running, timeout=60_000)
            if session.running and ending == "stop":
                session.stop()
            elif session.running and ending == "kill":
                session.stop()
                session.stop()
            elif session.running and ending == "sigkill":
                os.kill(session.controller.pid, signal.SIGKILL)
            qtbot.waitUntil(lambda: len(ends) == index + 1, timeout=120_000)  # noqa: B023 - read at once
            assert ends[-1][0] in EXPECTED[ending], (index, ending, ends[-1])
            assert not session.running
            assert not children(), (index, ending)
            if index == min(4, total - 1):  # after warm-up (imports, caches, first Qt allocations)
                baseline = {"fds": me.num_fds(), "threads": threading.active_count(),
                            "rss": me.memory_info().rss}
        assert me.num_fds() <= baseline["fds"] + 4, (baseline, me.num_fds())
        assert threading.active_count() <= baseline["threads"] + 1
        growth_mb = (me.memory_info().rss - baseline["rss"]) / 2**20
        assert growth_mb < 150, growth_mb
    finally:
        session.shutdown()
