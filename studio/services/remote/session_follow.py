"""Show a remote run live in a window's :class:`RunSession`, the same views as a local followed run."""

from __future__ import annotations

from studio.services.remote.follower import RemoteRunFollower
from studio.services.remote.ssh import SshTarget
from studio.services.session import RunSession, RunStopper

__all__ = ["follow_remote_run"]


def follow_remote_run(session: RunSession, target: SshTarget, run_path: str, *,
                      stall_s: float = 120.0, stopper: RunStopper | None = None) -> RemoteRunFollower:
    """Follow ``run_path`` on ``target`` in ``session`` until the run ends (reconnecting after drops).

    It takes the place of a local follower: ``session.stop_following()`` stops it. ``stopper``: what the toolbar's
    Stop and Kill do for it (a run this studio started there); None: they are off.

    Raises:
        RuntimeError: while a run of this window is in progress.
    """
    if session.running:
        raise RuntimeError("Stop the current run before opening another one.")
    remote = RemoteRunFollower(target, run_path, parent=session)
    remote.follower.stall_s = stall_s
    remote.reconnecting.connect(lambda attempt, why: session.note(
        "warning", f"connection lost ({why}); reconnecting (attempt {attempt})"))
    remote.failed.connect(lambda message: session.note("error", message))
    session.attach_follower(remote.follower, where=f"{target.label()}:{run_path}", how="over SSH", source=remote,
                            stopper=stopper)
    return remote
