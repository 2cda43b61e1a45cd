"""Follow latency: from an event appended to a run's events.jsonl to the studio receiving it.

``python -m benchmarks --only follow`` (or ``python -m benchmarks.bench_follow`` for the table alone) measures a
local folder (RunFollower: inotify plus a 1 s poll) and, where OpenSSH's server is installed, a stream over ssh to
a throw-away sshd on 127.0.0.1 (RemoteRunFollower running trainer_core's follow helper on the "server", which polls
the file every 0.2 s). The writer and the follower share one process and one clock; each event carries the time it
was written. ``--quick`` (what CI runs) sends 10 events 50 ms apart instead of 40 events 100 ms apart: a few
seconds in all.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

from studio.services.run_follower import RunFollower


def _measure(folder: Path, make_follower, *, events: int, interval_ms: int) -> list[float]:  # noqa: ANN001
    path = folder / "events.jsonl"
    path.write_text(json.dumps({"type": "run_started", "mode": "fit", "t": time.perf_counter()}) + "\n")
    follower, start = make_follower(folder)
    latencies: list[float] = []
    loop = QEventLoop()

    def received(batch: list[dict]) -> None:
        now = time.perf_counter()
        latencies.extend(now - event["t"] for event in batch if event.get("type") == "metrics")

    follower.events.connect(received)
    follower.ended.connect(lambda *_args: loop.quit())
    written = [0]

    def write() -> None:
        written[0] += 1
        last = written[0] > events
        event = ({"type": "stage_finished", "stage": "fit", "status": "finished"} if last else
                 {"type": "metrics", "step": written[0], "metrics": {"loss": 1.0}})
        event["t"] = time.perf_counter()
        with open(path, "a") as handle:
            handle.write(json.dumps(event) + "\n")
        if last:
            timer.stop()

    timer = QTimer()
    timer.setInterval(interval_ms)
    timer.timeout.connect(write)
    start()
    QTimer.singleShot(1500, timer.start)  # the stream is set up (ssh connected) before the clock counts
    QTimer.singleShot(120_000, loop.quit)
    loop.exec()
    return latencies


LOCAL = "local file (RunFollower: inotify + 1 s poll)"
SSH = "ssh to 127.0.0.1 (RemoteRunFollower, trainer_core.follow polling every 0.2 s)"
TARGET_MS = 500.0  # the bound for a local disk: an event written is drawn within 0.5 s


def measure(*, events: int, interval_ms: int) -> list[tuple[str, list[float] | None, str]]:
    """``(source, latencies in seconds or None when not measured, why not)`` for a local file and over ssh."""
    QCoreApplication.instance() or QCoreApplication([])
    results: list[tuple[str, list[float] | None, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "local"
        local.mkdir()

        def local_follower(folder: Path):  # noqa: ANN202
            follower = RunFollower(folder)
            return follower, follower.start

        results.append((LOCAL, _measure(local, local_follower, events=events, interval_ms=interval_ms), ""))
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from studio.services.remote.follower import RemoteRunFollower
        from tests.remote.sshd import sshd_missing, start_sshd

        reason = sshd_missing()
        if reason:
            results.append((SSH, None, reason))
            return results
        server = start_sshd(Path(tmp) / "sshd", python=sys.executable)
        try:
            remote_dir = Path(tmp) / "remote"
            remote_dir.mkdir()

            def remote_follower(folder: Path):  # noqa: ANN202
                remote = RemoteRunFollower(server.target, str(folder))
                return remote.follower, remote.start

            results.append((SSH, _measure(remote_dir, remote_follower, events=events, interval_ms=interval_ms), ""))
        finally:
            server.stop()
    return results


def _stats(latencies: list[float]) -> tuple[float, float, float]:
    ms = sorted(value * 1000 for value in latencies)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.95 * len(ms)))], ms[-1]


def _row(name: str, latencies: list[float] | None, why: str) -> str:
    if latencies is None:
        return f"| {name} | skipped: {why} | | | |"
    if not latencies:
        return f"| {name} | no events received | | | |"
    median, p95, worst = _stats(latencies)
    return f"| {name} | {len(latencies)} | {median:.0f} | {p95:.0f} | {worst:.0f} |"


def run(quick: bool, gpu: bool) -> list[dict]:
    """Rows for ``python -m benchmarks``: the median latency per source (CPU only; ``gpu`` is ignored)."""
    del gpu
    events, interval_ms = (10, 50) if quick else (40, 100)
    rows = []
    load = f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs" if hasattr(os, "getloadavg") else ""
    for name, latencies, why in measure(events=events, interval_ms=interval_ms):
        if not latencies:
            rows.append({"name": f"follow latency, {name}", "unit": "ms",
                         "note": f"skipped: {why}" if latencies is None else "error: no events received"})
            continue
        median, p95, worst = _stats(latencies)
        rows.append({"name": f"follow latency, {name}", "ours": median, "baseline": TARGET_MS, "unit": "ms",
                     "note": f"median of {len(latencies)} events {interval_ms} ms apart; p95 {p95:.0f} ms, max "
                             f"{worst:.0f} ms; baseline: the 0.5 s target; {load}"})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_follow", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--interval-ms", type=int, default=100)
    args = parser.parse_args(argv)
    rows = ["| source | events | median ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    rows += [_row(*result) for result in measure(events=args.events, interval_ms=args.interval_ms)]
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
