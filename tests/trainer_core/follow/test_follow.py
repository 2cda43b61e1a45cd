"""trainer_core.follow: every complete line exactly once, from any offset, until the run's end event."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trainer_core.follow import RunEndWatcher, follow

ROOT = Path(__file__).resolve().parents[3]


def _line(**event) -> bytes:
    return (json.dumps(event) + "\n").encode()


RUN = [_line(type="run_started", mode="fit", seq=0), _line(type="stage_started", stage="fit", seq=1),
       _line(type="metrics", step=0, metrics={"loss": 1.0}, seq=2), b"not json at all\n",
       _line(type="metrics", step=1, metrics={"loss": 0.5}, seq=3),
       _line(type="stage_finished", stage="fit", status="finished", seq=4)]


class _Writer:
    """Stands in for the trainer: each call (where follow would sleep) appends the next piece of the file."""

    def __init__(self, path: Path, pieces: list[bytes]) -> None:
        self.path, self.pieces, self.calls = path, list(pieces), 0

    def __call__(self, _seconds: float) -> None:
        self.calls += 1
        if self.pieces:
            with open(self.path, "ab") as handle:
                handle.write(self.pieces.pop(0))


def test_lines_arrive_whole_and_once_while_the_file_grows(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    data = b"".join(RUN)
    # Torn writes: pieces cut in the middle of lines, and a first look before the file exists.
    pieces = [data[:10], data[10:95], data[95:96], data[96:200], data[200:]]
    out = io.BytesIO()
    assert follow(str(path), out, sleep=_Writer(path, pieces)) == 0
    assert out.getvalue() == data


def test_an_offset_resumes_after_the_bytes_already_received(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    data = b"".join(RUN)
    path.write_bytes(data)
    offset = len(RUN[0]) + len(RUN[1])
    out = io.BytesIO()
    assert follow(str(path), out, offset=offset, sleep=_Writer(path, [])) == 0
    assert out.getvalue() == data[offset:]


def test_the_end_rule_follows_the_runs_mode() -> None:
    watcher = RunEndWatcher()
    watcher.feed({"type": "run_started", "mode": "test"})
    assert not watcher.feed({"type": "stage_finished", "stage": "fit", "status": "finished"})
    assert watcher.feed({"type": "stage_finished", "stage": "test", "status": "failed"})
    assert watcher.status == "failed"
    studio = RunEndWatcher()
    assert studio.feed({"type": "run_finished", "status": "interrupted"}) and studio.status == "interrupted"


def test_a_run_that_stops_writing_ends_the_follow_with_status_3(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(RUN[0])
    clock = iter(range(10_000))
    assert follow(str(path), io.BytesIO(), stall_s=0.0, sleep=lambda _s: next(clock)) == 3


def test_following_a_real_command_line_fit_gives_its_events_file(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    fit = subprocess.Popen([sys.executable, "-m", "trainer_core", "fit", "--config",
                            str(ROOT / "resources" / "examples" / "mlp_classifier.yaml"), "--max_epochs", "2",
                            "--enable_progress_bar", "false", "--default_root_dir", str(tmp_path)],
                           cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run = tmp_path / "lightning_logs" / "version_0"
    deadline = time.monotonic() + 120
    while not run.is_dir():  # follow a run folder once the trainer has made it
        assert fit.poll() is None, fit.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the run folder never appeared"
        time.sleep(0.05)
    followed = subprocess.run([sys.executable, "-m", "trainer_core.follow", str(run)], env=env,
                              capture_output=True, timeout=300)
    assert fit.wait(timeout=300) == 0
    assert followed.returncode == 0, followed.stderr.decode()[-2000:]
    assert followed.stdout == (run / "events.jsonl").read_bytes()


def test_bad_input_exits_2(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "trainer_core.follow", str(tmp_path / "missing" / "version_0")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "is not a folder" in done.stderr


@pytest.mark.parametrize("offset", ["-5"])
def test_a_negative_offset_is_refused(tmp_path: Path, offset: str) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "trainer_core.follow", str(tmp_path), "--offset", offset], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--offset" in done.stderr
