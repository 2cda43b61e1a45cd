"""Following a run over SSH against a real sshd: every event exactly once across dropped connections, the end,
and one clear line for each way the connection can fail."""

from __future__ import annotations

import json
import os
import signal
import socket
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer

from studio.services.remote.follower import TAIL, TRAINER_CORE, RemoteRunFollower
from tests.remote.sshd import SshServer

EVENTS = 60


def _line(**event) -> bytes:
    return (json.dumps(event) + "\n").encode()


class _RunWriter:
    """Stands in for a trainer on the server: appends one event per timer tick, the end event last.

    It keeps at most ``lead`` events ahead of what the follower has received, so each drop happens mid-run.
    """

    def __init__(self, folder: Path, received: list | None = None, lead: int = 6) -> None:
        self.received, self.lead = received, lead
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "events.jsonl"
        self.path.write_bytes(_line(type="run_started", mode="fit", seq=0))
        self.seq = 1
        self.timer = QTimer()
        self.timer.setInterval(15)
        self.timer.timeout.connect(self._write)

    def _write(self) -> None:
        if self.received is not None and self.seq - len(self.received) > self.lead:
            return
        if self.seq == EVENTS - 1:
            data = _line(type="stage_finished", stage="fit", status="finished", seq=self.seq)
            self.timer.stop()
        else:
            data = _line(type="metrics", step=self.seq, metrics={"loss": 1.0 / self.seq}, seq=self.seq)
        with open(self.path, "ab") as handle:  # written in two pieces: a reader may see a torn line
            handle.write(data[:7])
            handle.flush()
            handle.write(data[7:])
        self.seq += 1


def _follow_with_drops(qtbot, sshd: SshServer, tmp_path: Path, *, python: str) -> tuple[RemoteRunFollower, list]:
    received: list[dict] = []
    writer = _RunWriter(tmp_path / "run", received)
    remote = RemoteRunFollower(replace(sshd.target, python=python), str(tmp_path / "run"),
                               retry_delays_ms=(50,))
    remote.follower.events.connect(received.extend)
    drops_at = [8, 20, 35]

    def drop_connection(events: list) -> None:
        if drops_at and len(received) >= drops_at[0] and remote.process is not None:
            drops_at.pop(0)
            os.kill(remote.process.processId(), signal.SIGKILL)  # the connection dies mid-run

    remote.follower.events.connect(drop_connection)
    with qtbot.waitSignal(remote.follower.ended, timeout=60_000) as ended:
        remote.start()
        writer.timer.start()
    assert ended.args[0] == "finished"
    assert not drops_at, "the connection was dropped three times"
    assert remote.connections == 4
    return remote, received


def test_a_dropped_connection_resumes_with_every_event_exactly_once(qtbot, sshd: SshServer, tmp_path) -> None:
    remote, received = _follow_with_drops(qtbot, sshd, tmp_path, python=sshd.target.python)
    assert remote.mode == TRAINER_CORE
    assert [event["seq"] for event in received] == list(range(EVENTS))
    assert remote.follower.offset == (tmp_path / "run" / "events.jsonl").stat().st_size


def test_without_trainer_core_on_the_server_tail_streams_the_file(qtbot, sshd: SshServer, tmp_path) -> None:
    remote, received = _follow_with_drops(qtbot, sshd, tmp_path, python="/nonexistent/python3")
    assert remote.mode == TAIL
    assert [event["seq"] for event in received] == list(range(EVENTS))
    assert remote.process is None, "the tail stream is stopped once the run has ended"


def _failure(qtbot, remote: RemoteRunFollower) -> str:
    with qtbot.waitSignal(remote.failed, timeout=30_000) as failed:
        remote.start()
    return failed.args[0]


def test_a_refused_key_is_one_clear_line(qtbot, sshd: SshServer, tmp_path) -> None:
    stranger = tmp_path / "stranger"
    os.system(f"ssh-keygen -q -t ed25519 -N '' -f {stranger}")  # noqa: S605 - a fixed test command
    message = _failure(qtbot, RemoteRunFollower(replace(sshd.target, identity_file=str(stranger)), "/tmp"))
    assert message.startswith("SSH: root@127.0.0.1") and "refused the login" in message and "authorized_keys" in message
    assert "\n" not in message


def test_a_host_that_does_not_answer_times_out_with_a_clear_line(qtbot, sshd: SshServer) -> None:
    # A server that accepts the TCP connection but never says a word: ssh's ConnectTimeout covers the greeting.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        target = replace(sshd.target, port=silent.getsockname()[1], connect_timeout_s=1)
        message = _failure(qtbot, RemoteRunFollower(target, "/tmp"))
    finally:
        silent.close()
    assert "does not answer (no reply within 1 s)" in message and "VPN" in message


def test_a_follow_helper_error_names_the_problem(qtbot, sshd: SshServer, tmp_path) -> None:
    message = _failure(qtbot, RemoteRunFollower(sshd.target, str(tmp_path / "no" / "such" / "run")))
    assert message.startswith("following the run on root@127.0.0.1") and "is not a folder" in message


def test_the_remote_stream_does_not_outlive_the_connection(qtbot, sshd: SshServer, tmp_path) -> None:
    writer = _RunWriter(tmp_path / "run")
    remote = RemoteRunFollower(replace(sshd.target, python="/nonexistent/python3"), str(writer.path.parent))
    with qtbot.waitSignal(remote.follower.events, timeout=30_000):
        remote.start()
    remote.stop()
    marker = str(writer.path)

    def tails() -> list[str]:
        return [line for line in os.popen("ps -eo args").read().splitlines()  # noqa: S605 - fixed command
                if line.startswith("tail") and marker in line]

    qtbot.waitUntil(lambda: not tails(), timeout=10_000)
