"""The remote runs root: list its run folders, and copy a run or a checkpoint back to this computer.

Blocking calls with timeouts, for worker threads (:mod:`studio.services.remote.calls` runs them off the GUI thread).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.services.remote.ssh import SSH_FAILED, RemoteError, SshTarget, explain_failure, run_remote

__all__ = ["RemoteRun", "copy_back", "list_runs", "shell_path"]

MAX_DEPTH = 6  # runs roots hold NAME/version_N/ or sweep/trial/NAME/version_N/ folders


@dataclass(frozen=True)
class RemoteRun:
    """A run folder on the server (one holding ``events.jsonl``).

    Attributes:
        path: the folder, as the server names it.
        size: bytes in its ``events.jsonl``.
        modified: when that file was last written (seconds since the epoch, the server's clock).
    """

    path: str
    size: int
    modified: float

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name


def shell_path(path: str) -> str:
    """``path`` quoted for the remote shell, with a leading ``~/`` still meaning the login's home folder."""
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    return shlex.quote(path)


def list_runs(target: SshTarget, root: str, *, timeout_s: float = 30.0) -> list[RemoteRun]:
    """The run folders under ``root`` on the server, most recently written first.

    Raises:
        RemoteError: no connection, or ``root`` is not a folder there.
    """
    command = (f"cd {shell_path(root)} 2>/dev/null || {{ echo 'no such folder' >&2; exit 4; }}; "
               f"find \"$PWD\" -maxdepth {MAX_DEPTH} -name events.jsonl -type f -printf '%T@ %s %h\\n'")
    try:
        output = run_remote(target, command, timeout_s=timeout_s, what="listing the runs")
    except RemoteError as exc:
        if "no such folder" in str(exc):
            raise RemoteError(f"the runs folder {root} does not exist on {target.label()}: give the folder that "
                              "holds the runs (the trainer's default_root_dir, e.g. ~/project/lightning_logs).")\
                from None
        raise
    runs = []
    for line in output.splitlines():
        modified, size, path = line.split(" ", 2)
        runs.append(RemoteRun(path=path, size=int(size), modified=float(modified)))
    return sorted(runs, key=lambda run: run.modified, reverse=True)


def copy_back(target: SshTarget, remote_path: str, local_folder: str | Path, *, timeout_s: float = 600.0) -> Path:
    """Copy a remote file or folder (a checkpoint, a whole run) into ``local_folder``; return the copy's path.

    The copy lands in a temporary folder first and is renamed into place when complete, so a failed copy leaves
    nothing half-made, and an existing file of the same name is never overwritten (the copy gets ``NAME (2)``).

    Raises:
        RemoteError: no connection, the path does not exist there, or the copy took longer than ``timeout_s``.
    """
    local_folder = Path(local_folder)
    local_folder.mkdir(parents=True, exist_ok=True)
    name = PurePosixPath(remote_path.rstrip("/")).name or "copy"
    with tempfile.TemporaryDirectory(dir=local_folder, prefix=".copying-") as staging:
        argv = target.scp_argv([":" + remote_path], staging + "/", recursive=True)
        try:
            done = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RemoteError(f"copying {remote_path} from {target.label()} took longer than {timeout_s:g} s "
                              "and was stopped; nothing was kept.") from exc
        if done.returncode != 0:
            stderr = done.stderr.decode(errors="replace")
            if "No such file" in stderr:
                raise RemoteError(f"{remote_path} does not exist on {target.label()}: refresh the runs list.")
            # scp exits 1 for every failure; its connection errors read as ssh's, so they are explained alike.
            raise RemoteError(explain_failure(target, SSH_FAILED, stderr))
        destination = _free_name(local_folder / name)
        shutil.move(str(Path(staging) / name), destination)
    return destination


def _free_name(path: Path) -> Path:
    candidate, number = path, 2
    while candidate.exists():
        candidate = path.with_name(f"{path.stem} ({number}){path.suffix}")
        number += 1
    return candidate
