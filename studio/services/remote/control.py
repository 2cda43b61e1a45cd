"""Stop or kill a run the studio started elsewhere: detached on a server, or as a SLURM job.

Such a run is not this studio's child, so the toolbar's Stop reaches it by a signal:

- **Stop** asks for the same graceful stop as a local run's: the config the studio sends names the engine's
  ``StopOnSignal`` callback (:func:`stoppable`), which turns SIGTERM into "write the stop checkpoint at the next
  batch boundary, end the run interrupted". On a server, ``kill -TERM PID`` (the run's main process; its
  DataLoader workers are left to it); for a SLURM job, ``scancel --signal=TERM ID`` (the job's steps). A sweep
  handles SIGTERM itself: it stops its trials, each with its checkpoint.
- **Kill** ends it at once, with no checkpoint: ``kill -KILL -PID`` (the whole process group: the run was
  started as the leader of a session of its own), or ``scancel ID``.

The calls block with a timeout (:class:`RunControl`); :class:`RemoteStopper` runs them off the GUI thread for a
window's :class:`~studio.services.session.RunSession`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from studio.models.config import RunConfig
from studio.models.run_state import RunStatus
from studio.services.remote.calls import call_in_background
from studio.services.remote.slurm import SlurmError, SlurmShell, cancel
from studio.services.remote.ssh import RemoteError, SshTarget, run_remote

__all__ = ["STOP_CALLBACK", "DetachedRunControl", "RemoteStopper", "RunControl", "SlurmRunControl", "stoppable"]

STOP_CALLBACK = "trainer_core.callbacks.stop_on_signal.StopOnSignal"
"""The engine callback that turns SIGTERM into the graceful stop (the class path a config names)."""


def stoppable(config: RunConfig) -> RunConfig:
    """``config`` with the engine's SIGTERM stop callback added to its Trainer ``callbacks`` (once)."""
    flags = dict(config.trainer_flags)
    given = flags.get("callbacks")
    callbacks = list(given) if isinstance(given, (list, tuple)) else ([] if given is None else [given])

    def named(entry: Any) -> str:
        return str(entry.get("class_path", "")) if isinstance(entry, dict) else str(entry)

    if not any(named(entry) in (STOP_CALLBACK, "StopOnSignal") for entry in callbacks):
        callbacks.append({"class_path": STOP_CALLBACK})
    flags["callbacks"] = callbacks
    return dataclasses.replace(config, trainer_flags=flags)


class RunControl(Protocol):
    """The blocking stop and kill of one run elsewhere (call off the GUI thread)."""

    def describe(self) -> str:
        """The run as the console names it (``pid 123 on HOST``, ``SLURM job 45``)."""
        ...

    def stop(self) -> None:
        """Ask for the graceful stop. Raises RemoteError (with the fix) when it cannot be asked."""
        ...

    def kill(self) -> None:
        """End the run at once. Raises RemoteError (with the fix) when it cannot."""
        ...


@dataclass(frozen=True, kw_only=True)
class DetachedRunControl:
    """A run started detached on ``target`` (:func:`~studio.services.remote.launch.launch_detached`).

    Attributes:
        pid: the run's process there, the leader of its own process group.
    """

    target: SshTarget
    pid: int
    timeout_s: float = 20.0

    def describe(self) -> str:
        return f"pid {self.pid} on {self.target.label()}"

    def stop(self) -> None:
        # An ended process not yet reaped (a zombie) still takes signals: only a live one is asked.
        alive = f'case "$(ps -o stat= -p {self.pid} 2>/dev/null)" in ""|Z*) false;; esac'
        self._signal(f"{alive} && kill -TERM {self.pid}", "stopping the run")

    def kill(self) -> None:
        self._signal(f"kill -KILL -{self.pid}", "killing the run")  # a negative pid: the whole process group

    def _signal(self, command: str, what: str) -> None:
        # A run that has ended is no error of the connection: say so instead of kill's own message.
        answer = run_remote(self.target, f"{{ {command}; }} 2>/dev/null && echo sent || echo gone",
                            timeout_s=self.timeout_s, what=what)
        if answer.strip().splitlines()[-1:] != ["sent"]:
            raise RemoteError(f"the run ({self.describe()}) is not running any more: there is nothing to stop; "
                              "its folder there keeps what it wrote.")


@dataclass(frozen=True, kw_only=True)
class SlurmRunControl:
    """A run inside SLURM job ``job_id``, whose commands run in ``shell``.

    Attributes:
        stop_signal: sent to the job's steps for the graceful stop (``scancel --signal``).
    """

    shell: SlurmShell
    job_id: str
    stop_signal: str = "TERM"
    timeout_s: float = 30.0

    def describe(self) -> str:
        return f"SLURM job {self.job_id}"

    def stop(self) -> None:
        self._scancel(self.stop_signal, "stopping")

    def kill(self) -> None:
        self._scancel(None, "cancelling")

    def _scancel(self, signal: str | None, what: str) -> None:
        try:
            cancel(self.shell, self.job_id, signal=signal, timeout_s=self.timeout_s)
        except SlurmError as exc:
            raise SlurmError(f"{what} {self.describe()} failed: {exc}") from None


class RemoteStopper:
    """The toolbar's Stop and Kill for a followed run elsewhere, for :meth:`RunSession.attach_follower`.

    Both return at once; the signal is sent off the GUI thread. The outcome goes to the session's console; a
    failure also to ``on_failed`` (the window shows it above the plots), and a stop that could not be sent leaves
    Stop (not Kill) on the toolbar. Once a kill is done the followed run is ended here (a killed run writes no final
    event).

    Args:
        control: what sends the signals.
        session: the window's session following the run.
        on_failed: called with the one-line message when a stop or kill could not be sent.
    """

    def __init__(self, control: RunControl, *, session: Any,
                 on_failed: Callable[[str], None] | None = None) -> None:
        self.control = control
        self.session = session
        self.on_failed = on_failed

    def describe(self) -> str:
        """The run as the console names it."""
        return self.control.describe()

    def stop(self) -> None:
        """Ask for the graceful stop (off the GUI thread); when it cannot be sent, the session offers Stop again."""

        def not_sent(message: str) -> None:
            self._failed(message)
            self.session.stop_not_sent()

        call_in_background(self.control.stop, on_done=lambda _: self.session.note(
            "studio", f"asked {self.describe()} to stop: it writes a checkpoint after the current batch, then ends"),
            on_failed=not_sent, parent=self.session)

    def kill(self) -> None:
        """End the run at once (off the GUI thread); the followed run then ends here."""
        shown = self.session.follower

        def killed(_: object) -> None:
            if self.session.follower is shown and shown is not None:
                self.session.end_following(RunStatus.INTERRUPTED, f"killed ({self.describe()}), no checkpoint")

        call_in_background(self.control.kill, on_done=killed, on_failed=self._failed, parent=self.session)

    def _failed(self, message: str) -> None:
        self.session.note("error", message)
        if self.on_failed is not None:
            self.on_failed(message)
