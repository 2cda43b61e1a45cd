"""Show a remote run live in a window's :class:`RunSession`, the same views as a local followed run."""

from __future__ import annotations

import time

from studio.models.run_state import RunStatus
from studio.services.remote.follower import RemoteRunFollower
from studio.services.remote.ssh import SshTarget
from studio.services.session import RunSession

__all__ = ["follow_remote_run"]


def follow_remote_run(session: RunSession, target: SshTarget, run_path: str, *,
                      stall_s: float = 120.0) -> RemoteRunFollower:
    """Follow ``run_path`` on ``target`` in ``session`` until the run ends (reconnecting after drops).

    It takes the place of a local follower: ``session.stop_following()`` stops it.

    Raises:
        RuntimeError: while a run of this window is in progress.
    """
    if session.controller.running:
        raise RuntimeError("Stop the current run before opening another one.")
    session.stop_following()
    session.model.reset()
    session.model.log_dir = f"{target.label()}:{run_path}"
    session.model.status = RunStatus.RUNNING
    session.model.log("studio", f"{time.strftime('%H:%M:%S')} following {target.label()}:{run_path} live over SSH")
    session.cleared.emit()
    remote = RemoteRunFollower(target, run_path, parent=session)
    follower = remote.follower
    follower.stall_s = stall_s
    follower.events.connect(session._on_events)  # noqa: SLF001 - the session's own event intake
    follower.ended.connect(session._on_follow_ended)  # noqa: SLF001
    follower.stalled.connect(lambda quiet: session._note(  # noqa: SLF001
        "warning", f"no new event for {quiet:.0f} s: the run may be stuck, or its process may have died"))
    remote.reconnecting.connect(lambda attempt, why: session._note(  # noqa: SLF001
        "warning", f"connection lost ({why}); reconnecting (attempt {attempt})"))
    remote.failed.connect(lambda message: session._note("error", message))  # noqa: SLF001
    session.follower = remote  # type: ignore[assignment] - it has the stop()/deleteLater() a follower has
    remote.start()
    session.run_started.emit(session.model.mode or "fit")
    return remote
