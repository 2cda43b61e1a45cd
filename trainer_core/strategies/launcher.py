"""``strategy="ddp"`` started as a plain script: re-run the script once per extra local rank and supervise the copies.

The calling process becomes local rank 0. The copies run the whole script (every later stage too), so they are not
waited for after one stage; a watcher thread follows them instead:

- a copy that exits with an error makes the run fail within seconds: rank 0 normally notices on its next
  collective (gloo reports the closed connection) and raises a short error pointing at the copy's traceback, which
  the copy printed itself (so the traceback appears once); if rank 0 is stuck (NCCL can wait for its timeout), the
  watcher ends it after ``TRAINER_CORE_DDP_GRACE_S`` seconds (default 10);
- when rank 0 fails, the copies are terminated at once (they would otherwise wait in a collective);
- at interpreter exit rank 0 waits at most ``TRAINER_CORE_DDP_EXIT_TIMEOUT_S`` seconds (default 60) for the copies,
  then terminates them, so nothing is left behind.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["ChildRanks", "relaunch_command", "run_with_children"]

log = logging.getLogger("trainer_core")


def relaunch_command() -> list[str]:
    """The command line that re-runs this script (``python script.py args`` or ``python -m package args``)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None) and spec.name != "__main__":
        module = spec.name[: -len(".__main__")] if spec.name.endswith(".__main__") else spec.name
        return [sys.executable, "-m", module, *sys.argv[1:]]
    return [sys.executable, os.path.abspath(main.__file__), *sys.argv[1:]]  # type: ignore[union-attr]


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class ChildRanks:
    """The re-launched copies (local ranks 1..n-1) and the thread that watches them."""

    def __init__(self, command: Sequence[str], base_env: dict[str, str], world_size: int) -> None:
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        for rank in range(1, world_size):
            env = {**base_env, "RANK": str(rank), "LOCAL_RANK": str(rank)}
            self.procs[rank] = subprocess.Popen(list(command), env=env)
        self.failure: tuple[int, int] | None = None  # (rank, exit code) of the first copy that failed
        self._handled = threading.Event()
        self._done = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="ddp-child-watcher", daemon=True)
        self._watcher.start()
        atexit.register(self.close)

    # --- watching --------------------------------------------------------------------------------------------
    def _watch(self) -> None:
        pending = dict(self.procs)
        while pending and not self._done.is_set():
            for rank, proc in list(pending.items()):
                try:
                    code = proc.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    continue
                del pending[rank]
                if code != 0 and self.failure is None:
                    self.failure = (rank, code)
                    self._on_failure()
                    return

    def _on_failure(self) -> None:
        assert self.failure is not None
        rank, code = self.failure
        # Rank 0 usually raises by itself (a collective sees the closed connection). If it does not within the
        # grace period it is stuck in a collective: end the whole run rather than wait for the DDP timeout.
        if self._handled.wait(_float_env("TRAINER_CORE_DDP_GRACE_S", 10.0)) or self._done.is_set():
            return
        sys.stderr.write(f"\n[trainer_core] DDP rank {rank} exited with code {code} (its traceback is above); "
                         "rank 0 did not stop by itself, so the run is ended.\n")
        sys.stderr.flush()
        self.terminate()
        os._exit(code if code > 0 else 1)

    # --- outcomes --------------------------------------------------------------------------------------------
    def failed_child(self, wait_s: float = 2.0) -> tuple[int, int] | None:
        """A copy that exited with an error, waiting up to ``wait_s`` for one (rank 0 just failed: was it them?)."""
        self._handled.set()
        if self.failure is None:
            self._watcher.join(timeout=wait_s)
        return self.failure

    def terminate(self, timeout: float = 5.0) -> None:
        """Stop every copy still running: SIGTERM, then SIGKILL after ``timeout`` seconds."""
        self._done.set()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)

    def close(self) -> None:
        """At exit: give the copies time to finish the script, then make sure none is left running."""
        if self._done.is_set():
            return
        self._handled.set()
        deadline = _float_env("TRAINER_CORE_DDP_EXIT_TIMEOUT_S", 60.0)
        for rank, proc in self.procs.items():
            try:
                code = proc.wait(timeout=deadline)
            except subprocess.TimeoutExpired:
                log.error("DDP rank %d did not finish within %.0f s after rank 0; terminating it", rank, deadline)
                code = None
            if code not in (0, None) and self.failure is None:
                self.failure = (rank, code)
        self.terminate()
        if self.failure is not None:
            rank, code = self.failure
            sys.stderr.write(f"[trainer_core] DDP rank {rank} exited with code {code} (its traceback is above)\n")
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(code if code > 0 else 1)


def child_failure_error(failure: tuple[int, int]) -> RuntimeError:
    rank, code = failure
    return RuntimeError(f"DDP rank {rank} failed (exit code {code}); its traceback is printed above. "
                        "The other ranks were stopped.")


_PEER_FAILURE_TEXT = ("connection closed by peer", "connection reset by peer", "remote worker", "broken pipe")


def _is_peer_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is a collective failing because another rank went away."""
    import torch.distributed as dist

    backend_error = getattr(dist, "DistBackendError", None)
    if backend_error is not None and isinstance(exc, backend_error):
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _PEER_FAILURE_TEXT)


def run_with_children(children: ChildRanks, run: Any) -> Any:
    """Run rank 0's stage; on failure stop the copies and say which rank failed first."""
    try:
        return run()
    except BaseException as exc:
        # A collective that broke because a copy died: wait for that copy's exit to name it (its interpreter may
        # take a few seconds to finish). Rank 0's own error: the copies are blocked, stop them right away.
        failure = children.failed_child(wait_s=15.0 if _is_peer_failure(exc) else 0.5)
        children.terminate()
        if failure is not None:
            raise child_failure_error(failure) from None
        raise
