"""Start a Fit/Tune/Sweep on a server, detached: it goes on when the connection drops or the studio closes.

The config file (and any file it needs, e.g. the model script) is copied into a folder on the server with ``scp``,
then ``setsid nohup PYTHON -m trainer_core MODE --config FILE > run.log 2>&1 &`` starts it in a session of its
own. Nothing else is sent.
"""

from __future__ import annotations

import dataclasses
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.models.config import RunConfig
from studio.services.remote.runs import list_runs, shell_path
from studio.services.remote.ssh import SSH_FAILED, RemoteError, SshTarget, explain_failure, run_remote

__all__ = ["RUN_APPEARS_S", "RemoteLaunch", "bundle_for_server", "copy_files", "launch_and_find_run",
           "launch_detached", "make_remote_folder", "next_run", "wait_for_run"]

RUN_APPEARS_S = 180  # seconds a started run may take to write its first event (imports, data loading)

MODES = ("fit", "validate", "test", "predict", "tune", "debug", "sweep")
_NO_PYTHON, _NO_TRAINER_CORE = 127, 3
_CHECK = ("import importlib.util, sys; "
          "sys.exit(0 if importlib.util.find_spec('trainer_core') else 3)")


@dataclass(frozen=True)
class RemoteLaunch:
    """A run started on a server.

    Attributes:
        pid: the process id there (the leader of its own session).
        workdir: the folder it runs in (the copied files and ``run.log`` are there).
        log: its stdout and stderr.
        command: the command line it runs.
    """

    pid: int
    workdir: str
    log: str
    command: str


def launch_detached(target: SshTarget, *, mode: str, config: str | Path, workdir: str,
                    extra_files: tuple[str | Path, ...] = (), args: tuple[str, ...] = (),
                    timeout_s: float = 60.0) -> RemoteLaunch:
    """Copy ``config`` (and ``extra_files``) into ``workdir`` on the server and start ``mode`` there, detached.

    Args:
        mode: a ``trainer-core`` subcommand (``fit``, ``tune``, ``sweep``, ...).
        config: the run's YAML config file, as the CLI takes it; paths in it are read on the server, relative to
            ``workdir``.
        workdir: the folder on the server (made if missing); ``~/`` means the login's home.
        extra_files: more files the run needs, copied next to the config (a model script, a sweep file).
        args: more command-line options, e.g. ``("--sweep", "sweep.yaml")``.

    Raises:
        RemoteError: no connection, no remote Python or no ``trainer_core`` there, a failed copy.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    python = shlex.quote(target.python)
    check = f"mkdir -p {shell_path(workdir)} && cd {shell_path(workdir)} && {python} -c {shlex.quote(_CHECK)} && pwd"
    try:
        absolute = run_remote(target, check, timeout_s=timeout_s, what="preparing the run").strip().splitlines()[-1]
    except RemoteError as exc:
        raise _explain_check(target, exc) from None
    files = [Path(config), *map(Path, extra_files)]
    copy_files(target, files, absolute, timeout_s=timeout_s)
    command = shlex.join([target.python, "-m", "trainer_core", mode, "--config", files[0].name, *args])
    log = str(PurePosixPath(absolute) / "run.log")
    # setsid: a session of its own, so no hang-up reaches it; stdin from /dev/null and output to the log, so the
    # ssh session has nothing left open and returns at once.
    start = (f"cd {shlex.quote(absolute)} && {{ setsid nohup {command} > run.log 2>&1 < /dev/null & }} && "
             "echo $!")
    pid = int(run_remote(target, start, timeout_s=timeout_s, what="starting the run").strip().splitlines()[-1])
    return RemoteLaunch(pid=pid, workdir=absolute, log=log, command=command)


def wait_for_run(target: SshTarget, launch: RemoteLaunch, *, appear_s: float = RUN_APPEARS_S,
                 poll_s: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> str:
    """The run folder a detached launch writes, once its first event is there (blocking: a worker thread).

    Polls the job folder every ``poll_s`` seconds until a run folder appears, the process ends without one, or
    ``appear_s`` passes.

    Raises:
        RemoteError: the process ended first (the message quotes the last line of its log), or it wrote nothing
            within ``appear_s``; either names the log file on the server.
    """
    run = next_run(target, launch, appear_s=appear_s, poll_s=poll_s, sleep=sleep)
    if run is None:
        tail = run_remote(target, f"tail -n 20 {shlex.quote(launch.log)}", what="reading the run's log")
        lines = [line.strip() for line in tail.splitlines() if line.strip()]
        raise RemoteError(f"the run on {target.label()} ended before writing any event: "
                          f"{lines[-1] if lines else 'no output'} (the whole log: {launch.log} there).")
    return run


def next_run(target: SshTarget, launch: RemoteLaunch, *, seen: frozenset[str] = frozenset(),
             appear_s: float = RUN_APPEARS_S, poll_s: float = 1.0,
             sleep: Callable[[float], None] = time.sleep) -> str | None:
    """The newest run folder under the launch's job folder that is not in ``seen`` (a sweep's next trial), once it
    has an event; None when the launched process has ended without making one (blocking: a worker thread).

    Raises:
        RemoteError: nothing new within ``appear_s`` while the process still runs (named with its log file).
    """
    deadline = time.monotonic() + appear_s
    alive = f"kill -0 {launch.pid} 2>/dev/null && echo alive || echo ended"

    def new() -> str | None:
        return next((run.path for run in list_runs(target, launch.workdir) if run.path not in seen), None)

    while True:
        run = new()
        if run is not None:
            return run
        if run_remote(target, alive, what="checking the run").strip() != "alive":
            return new()  # it may have written a run and ended between the two looks
        if time.monotonic() >= deadline:
            raise RemoteError(f"the run started on {target.label()} (pid {launch.pid}) wrote no new run within "
                              f"{appear_s:g} s; see {launch.log} there.")
        sleep(poll_s)


def launch_and_find_run(target: SshTarget, *, mode: str, config: str | Path, workdir: str,
                        extra_files: tuple[str | Path, ...] = (), args: tuple[str, ...] = (),
                        appear_s: float = RUN_APPEARS_S) -> tuple[RemoteLaunch, str]:
    """:func:`launch_detached`, then :func:`wait_for_run`: the launch and its run folder (blocking)."""
    launch = launch_detached(target, mode=mode, config=config, workdir=workdir, extra_files=extra_files, args=args)
    return launch, wait_for_run(target, launch, appear_s=appear_s)


def make_remote_folder(target: SshTarget, folder: str, *, timeout_s: float = 30.0) -> str:
    """Make ``folder`` on the server (``~/`` is the login's home) and return it as an absolute path (blocking).

    Programs that take a folder argument without a shell (``sbatch --chdir``) do not expand ``~``.
    """
    command = f"mkdir -p {shell_path(folder)} && cd {shell_path(folder)} && pwd"
    return run_remote(target, command, timeout_s=timeout_s, what="making the job folder").strip().splitlines()[-1]


def _explain_check(target: SshTarget, exc: RemoteError) -> RemoteError:
    message = str(exc)
    if f"(status {_NO_TRAINER_CORE})" in message:
        return RemoteError(f"trainer_core is not installed for {target.python} on {target.label()}: install the "
                           "project there (pip install training-studio) or set the remote Python to the "
                           "environment that has it.")
    if "a program was not found there" in message:
        return RemoteError(f"there is no Python at {target.python!r} on {target.label()}: set the remote Python to "
                           "one that exists there (e.g. /opt/conda/bin/python or ~/venv/bin/python).")
    return exc


def copy_files(target: SshTarget, files: list[Path], remote_folder: str, *, timeout_s: float = 60.0) -> None:
    """Copy local files into ``remote_folder`` on the server (made if missing) with ``scp``."""
    run_remote(target, f"mkdir -p {shell_path(remote_folder)}", timeout_s=timeout_s, what="making the folder")
    missing = [str(file) for file in files if not file.is_file()]
    if missing:
        raise RemoteError(f"cannot send {', '.join(missing)}: no such file on this computer.")
    argv = target.scp_argv([str(file) for file in files], ":" + remote_folder + "/")
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RemoteError(f"copying the config to {target.label()} took longer than {timeout_s:g} s "
                          "and was stopped.") from exc
    if done.returncode != 0:
        raise RemoteError(explain_failure(target, SSH_FAILED, done.stderr.decode(errors="replace")))


def bundle_for_server(config: RunConfig, folder: str | Path, *, name: str = "run.yaml") -> tuple[Path, list[Path]]:
    """Write ``config`` for a server into ``folder``: local files it names (the model script, a data file, a
    DataModule script, a checkpoint to resume from) are sent along and named by their file names, which the CLI
    resolves next to the config.

    Returns:
        The config file and the files to send with it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

    def sent(path: str) -> str:
        if path and Path(path).is_file():
            files.append(Path(path))
            return Path(path).name
        return path

    data = dict(config.data) if config.data else None
    if data:
        for key in ("path", "script"):
            if isinstance(data.get(key), str):
                data[key] = sent(data[key])
    ckpt = sent(config.ckpt_path) if config.ckpt_path else None  # resuming on the server needs the file there
    server = dataclasses.replace(config, model_script=sent(config.model_script), data=data, ckpt_path=ckpt)
    server.save(folder / name)
    return folder / name, files
