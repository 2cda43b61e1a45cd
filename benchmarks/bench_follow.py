"""Follow latency: from an event appended to a run's events.jsonl to the studio receiving it.

``python -m benchmarks.bench_follow`` measures a local folder (RunFollower: inotify plus a 1 s poll) and, where
OpenSSH's server is installed, a stream over ssh to a throw-away sshd on 127.0.0.1 (RemoteRunFollower running
trainer_core's follow helper on the "server", which polls the file every 0.2 s). The writer and the follower
share one process and one clock; each event carries the time it was written.
"""

from __future__ import annotations

import argparse
import json
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


def _row(name: str, latencies: list[float]) -> str:
    ms = sorted(value * 1000 for value in latencies)
    if not ms:
        return f"| {name} | no events received | | | |"
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.0f} | {p95:.0f} | {ms[-1]:.0f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_follow", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--interval-ms", type=int, default=100)
    args = parser.parse_args(argv)
    QCoreApplication.instance() or QCoreApplication([])
    rows = ["| source | events | median ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "local"
        local.mkdir()

        def local_follower(folder: Path):  # noqa: ANN202
            follower = RunFollower(folder)
            return follower, follower.start

        rows.append(_row("local file (inotify + 1 s poll)",
                         _measure(local, local_follower, events=args.events, interval_ms=args.interval_ms)))
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from studio.services.remote.follower import RemoteRunFollower
        from tests.remote.sshd import sshd_missing, start_sshd

        reason = sshd_missing()
        if reason:
            rows.append(f"| ssh to 127.0.0.1 | skipped: {reason} | | | |")
        else:
            server = start_sshd(Path(tmp) / "sshd", python=sys.executable)
            try:
                remote_dir = Path(tmp) / "remote"
                remote_dir.mkdir()

                def remote_follower(folder: Path):  # noqa: ANN202
                    remote = RemoteRunFollower(server.target, str(folder))
                    return remote.follower, remote.start

                rows.append(_row("ssh to 127.0.0.1 (trainer_core.follow, 0.2 s poll)",
                                 _measure(remote_dir, remote_follower, events=args.events,
                                          interval_ms=args.interval_ms)))
            finally:
                server.stop()
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
