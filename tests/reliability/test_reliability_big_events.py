"""Reopening a run whose ``events.jsonl`` is huge: bounded memory, every series ends at the run's last step.

The studio's reader (``studio.protocol.stream.read_events_file``) thins long streams while it reads (at most
``DEFAULT_MAX_POINTS`` events per metrics stream, always the first two and the newest), keeps sparse series whole,
skips over-long lines without holding them, and says in the console what it left out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.protocol import stream
from studio.protocol.stream import read_events_file
from studio.protocol.thinning import DEFAULT_MAX_POINTS, Thinner
from tests.reliability.events_file import VAL_EVERY, open_like_the_studio, write_events_file

ROOT = Path(__file__).resolve().parents[2]


def _metrics(step: int, **values: float) -> dict[str, object]:
    return {"type": "metrics", "step": step, "epoch": step // 100, "metrics": values}


def test_each_stream_keeps_a_bounded_even_spread_with_its_first_two_and_newest_events() -> None:
    thinner = Thinner(max_points=100, max_lines=10)
    thinner.add({"type": "run_started", "run_id": "r"})
    for step in range(10_007):
        thinner.add(_metrics(step, loss=1.0))
        if step % 1000 == 0:
            thinner.add(_metrics(step, val_loss=2.0))
        thinner.add({"type": "log", "level": "info", "text": str(step)})
    kept = thinner.events()
    train = [e["step"] for e in kept if e["type"] == "metrics" and "loss" in e["metrics"]]
    val = [e["step"] for e in kept if e["type"] == "metrics" and "val_loss" in e["metrics"]]
    logs = [e["text"] for e in kept if e["type"] == "log"]
    assert kept[0]["type"] == "run_started"
    assert 50 <= len(train) <= 101 and train[:2] == [0, 1] and train[-1] == 10_006
    assert train == sorted(train) and len(set(train)) == len(train)
    gaps = {b - a for a, b in zip(train[2:-1], train[3:-1])}
    assert len(gaps) == 1  # evenly spread: one stride between the kept points
    assert val == list(range(0, 10_007, 1000))  # a sparse stream is kept whole
    assert logs == [str(step) for step in range(9_997, 10_007)]  # the newest lines, as the console keeps
    assert thinner.left_out == {"metrics": 10_007 - len(train), "log": 10_007 - 10}
    steps_in_file_order = [e["step"] for e in kept if e["type"] == "metrics"]
    assert steps_in_file_order == sorted(steps_in_file_order)


def test_reopening_a_big_run_keeps_points_per_series_bounded_and_shows_the_last_step(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    last = write_events_file(path, 8 * 2**20)  # about 48,000 steps: more than a stream keeps
    assert last + 1 > 2 * DEFAULT_MAX_POINTS
    shown = open_like_the_studio(path)
    points, last_step = shown["points"], shown["last_step"]
    assert set(points) == {"train_loss", "lr", "val_loss", "val_acc"}
    assert DEFAULT_MAX_POINTS // 2 <= points["train_loss"] <= DEFAULT_MAX_POINTS + 1
    assert points["val_loss"] == (last + 1) // VAL_EVERY  # the sparse validation series is whole
    assert all(step == last for step in last_step.values())  # every series reaches the run's last step
    assert shown["thinned"]["metrics"] > 0 and shown["skipped"] == 0
    assert "left out to keep memory bounded" in shown["note"]


def test_a_line_too_long_to_hold_is_skipped_and_the_next_ones_are_read(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(stream, "_CHUNK_BYTES", 256)
    path = tmp_path / "events.jsonl"
    good = [json.dumps(_metrics(step, loss=0.5)) for step in range(3)]
    path.write_text("\n".join([good[0], "x" * 5000, good[1], '{"type": "log", "text": "' + "y" * 3000, good[2]]),
                    encoding="utf-8")
    read = read_events_file(path)
    assert [e["step"] for e in read.events] == [0, 1, 2]
    assert read.skipped == 2 and read.first_skipped_line == 2


@pytest.mark.slow
@pytest.mark.timeout(3600)  # a minute or two of CPU; far longer on a machine shared with other work
def test_a_1_gb_events_file_reopens_in_bounded_memory_with_the_last_step(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    last = write_events_file(path, 2**30)
    # A fresh interpreter measures its own peak RSS (ru_maxrss) before and after reading and replaying the file.
    done = subprocess.run([sys.executable, "-m", "tests.reliability.events_file", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=3500, check=True)
    shown = json.loads(done.stdout.splitlines()[-1])
    print(f"1 GB events.jsonl: {shown['seconds']} s ({shown['cpu_seconds']} s CPU), peak RSS growth "
          f"{shown['rss_growth_mb']} MB, points {shown['points']}")
    assert shown["rss_growth_mb"] < 500
    assert all(step == last for step in shown["last_step"].values())
    assert max(shown["points"].values()) <= DEFAULT_MAX_POINTS + 1
