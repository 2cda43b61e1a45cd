"""The studio process killed (SIGKILL) while a run is attached or after it was detached: the run trains on to its
end, and the run list (the Runs tab's scan of the runs folder) shows it, finished and replayable."""

from __future__ import annotations

import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from studio.models.dashboards.history import load_run, scan_runs

pytestmark = pytest.mark.fuzz

HERE = Path(__file__).resolve().parent
STUDIO_CHILD = HERE / "scripts" / "studio_child.py"
TINY = HERE.parents[1] / "studio" / "scripts" / "tiny_model.py"


def _wait_for_line(proc: subprocess.Popen[str], prefix: str, timeout: float) -> str:
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if line.startswith(prefix):
                return line
            if not line:
                break
    proc.kill()
    raise AssertionError(f"the studio did not print {prefix!r} within {timeout} s: {proc.stderr.read()[-3000:]}")


@pytest.mark.parametrize("how", ["attached", "detached"])
def test_a_killed_studio_leaves_its_run_finishing_and_listed(tmp_path: Path, how: str) -> None:
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, str(STUDIO_CHILD), str(runs), str(TINY), how],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        training_pid = int(_wait_for_line(proc, "TRAINING", 120).split()[1])
        training = psutil.Process(training_pid)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
        try:
            training.wait(timeout=120)  # no window to report to: it trains on, events going to events.jsonl
        except psutil.TimeoutExpired:
            training.kill()
            raise AssertionError("the run did not finish after the studio was killed") from None
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    listed = [run for run in scan_runs(runs) if "failed" not in Path(run.path).parts]
    assert len(listed) == 1, [(r.path, r.status) for r in scan_runs(runs)]
    assert listed[0].status == "finished", (listed[0].status, listed[0].mode)
    model = load_run(listed[0].path)
    assert model.metrics.names()  # its curves replay
