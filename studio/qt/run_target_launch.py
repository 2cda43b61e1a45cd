"""Start a run where the window's "Run on" points: detached on a server over SSH, or as a SLURM job.

Either way the run is then followed live in the window's views (``follow_remote_run`` over SSH, ``follow_run``
for a SLURM job on this computer's file system). Every remote call runs off the GUI thread with a timeout
(:mod:`studio.services.remote.calls`); the window only shows progress in its console and status bar.

Files sent to a server are the config the CLI takes (written by ``bundle_for_server``: the model script, a data
file or DataModule script and a checkpoint to resume from go along, named by their file names) and, for a sweep,
its sweep file. They land in a job folder of their own, ``~/training-studio/NAME-MODE-TIME``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from studio.models.config import RunConfig
from studio.qt.run_target import LOCAL, SERVER, SLURM, RunTarget, current_target
from studio.services.remote.calls import call_in_background
from studio.services.remote.control import DetachedRunControl, RemoteStopper, RunControl, SlurmRunControl, stoppable
from studio.services.remote.launch import RemoteLaunch, bundle_for_server, launch_and_find_run, next_run
from studio.services.remote.slurm import next_job_run, resources_from_flags
from studio.services.remote.ssh import SshTarget

__all__ = ["JOBS_ROOT", "SWEEP_FILE", "follow_on", "launch_elsewhere", "open_slurm_job", "start_bundle_on_server",
           "start_on_server", "start_sweep_on", "sweep_args"]

JOBS_ROOT = "~/training-studio"  # job folders on a server or login node
SWEEP_FILE = "sweep-request.yaml"  # not sweep.yaml: the sweep writes its resolved file under that name


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _stem(config: RunConfig) -> str:
    return Path(config.model_script).stem or "run"


def launch_elsewhere(window: Any, mode: str, config: RunConfig, overrides: dict[str, Any] | None = None) -> bool:
    """Start ``mode`` on the window's chosen target; False when that is this computer (the caller starts it).

    Args:
        config: the forms' config, with the checkpoint the mode uses.
        overrides: the toolbar's choice for this launch (``tune``: which finders; ``debug``: which check); they go
            into the config file, where the CLI reads them.
    """
    target = current_target(window)
    if target.kind == LOCAL:
        return False
    if getattr(window, "remote_starts", 0):  # a second click while the files travel would start the run twice
        window.show_problems(["A run is being started on a server; it shows here once it has started (the console "
                              "says how far it got). Start the next one after that."])
        return True
    overrides = overrides or {}
    config = dataclasses.replace(config, tune=dict(overrides.get("tune", config.tune)),
                                 debug=str(overrides.get("debug", config.debug)))
    if target.kind == SERVER and target.server is not None:
        start_on_server(window, target.server, mode, config)
        return True
    if target.kind == SLURM:
        open_slurm_job(window, target, mode, config)
        return True
    return False


def start_on_server(window: Any, server: SshTarget, mode: str, config: RunConfig) -> bool:
    """Send ``config`` (and the files it names) to ``server``, start ``mode`` there detached, and follow its run
    once it appears.

    Returns:
        False when the files could not be written here (the problem is shown); True once the start is under way.
    """
    name = f"{_stem(config)}-{mode}-{_stamp()}"
    try:
        # Named in the config: the engine's SIGTERM stop, which is how the toolbar's Stop reaches the run there.
        bundle = bundle_for_server(stoppable(config), Path(window.settings.runs_dir()) / "remote" / name)
    except OSError as exc:
        window.show_problems([f"cannot write the config for {server.label()}: {exc}"])
        return False
    return start_bundle_on_server(window, server, mode, bundle, workdir=f"{JOBS_ROOT}/{name}")


def start_bundle_on_server(window: Any, server: SshTarget, mode: str, bundle: tuple[Path, list[Path]], *,
                           workdir: str, args: tuple[str, ...] = ()) -> bool:
    """Start ``mode`` on ``server`` from a written config (and the files to send with it), detached, in
    ``workdir``; the run is followed once it appears. Everything remote runs off the GUI thread.

    Args:
        bundle: the config file for the server and the files to send with it.
        args: more command-line options (a sweep's ``--sweep FILE ...``).
    """
    config_file, files = bundle
    session = window.session
    session.note("studio", f"starting {mode} on {server.label()} in {workdir}; it runs detached there (it goes on "
                           "if the connection drops or the studio closes) and is followed here once it has started")
    window.statusBar().showMessage(f"starting {mode} on {server.label()}…", 15000)
    pending = getattr(window, "remote_starts", 0)
    window.remote_starts = pending + 1

    def work() -> tuple[RemoteLaunch, str]:
        return launch_and_find_run(server, mode=mode, config=config_file, workdir=workdir, extra_files=tuple(files),
                                   args=args)

    def started(result: tuple[RemoteLaunch, str]) -> None:
        window.remote_starts -= 1
        launch, run = result
        line = f"{mode} started on {server.label()} (pid {launch.pid}; its output: {launch.log} there)"
        control = DetachedRunControl(target=server, pid=launch.pid)
        try:
            follow_on(window, server, run, control=control)
        except RuntimeError as exc:  # a local run of this window is in progress: the remote one goes on
            window.show_problems([f"{line}; not shown here: {exc} Open it with File ▸ Connect to a server…"])
            return
        session.note("studio", line)
        window.statusBar().showMessage(line, 15000)
        if mode == "sweep":
            _follow_next_trials(window, server, {run}, control,
                                lambda known: next_run(server, launch, seen=known),
                                f"the sweep on {server.label()} has ended; its folder there: {launch.workdir}")

    def failed(message: str) -> None:
        window.remote_starts -= 1
        session.note("error", message)
        window.show_problems([message])
        window.statusBar().showMessage(f"{mode} did not start on {server.label()}", 15000)

    call_in_background(work, on_done=started, on_failed=failed, parent=window)
    return True


def follow_on(window: Any, server: SshTarget | None, run: str, *, control: RunControl | None = None) -> None:
    """Follow ``run`` in the window's views: over SSH on ``server``, or a folder on this computer (None).

    ``control``: how the toolbar's Stop and Kill reach the run (one this window started); None: they are off.

    Raises:
        RuntimeError: a run of this window is in progress.
    """
    stopper = None
    if control is not None:
        stopper = RemoteStopper(control, session=window.session, on_failed=lambda message: window.show_problems(
            [message]))
    if server is None:
        window.session.follow_run(run, stopper=stopper)
    else:
        from studio.services.remote.session_follow import follow_remote_run  # noqa: PLC0415 - remote only

        follow_remote_run(window.session, server, run, stopper=stopper)
    metrics = getattr(window, "metrics_view", None)
    if metrics is not None:
        window.views.setCurrentWidget(metrics)
    window.show_problems([])
    window.sync_actions()


def _follow_next_trials(window: Any, server: SshTarget | None, seen: set[str], control: RunControl | None,
                        next_trial: Callable[[frozenset[str]], str | None], ended_note: str,
                        sweep_folder: str | None = None) -> None:
    """A sweep on a server or in a SLURM job: when the trial shown ends, its next trial is followed, until the
    sweep has ended.

    Only while the window still shows the sweep's trial: a run the user opened or started meanwhile stays.

    Args:
        server: where the trials are followed from (None: this computer's file system).
        seen: the trials followed so far.
        next_trial: blocking (run off the GUI thread): the next trial not in its argument, or None once the sweep
            has ended (its process, or its job).
        ended_note: the console's line when the sweep has ended.
        sweep_folder: the sweep's folder when this computer can read it (a SLURM job on a shared file system): the
            Sweep tab reads its study each time a trial ends, so its table and best trial are there to compare.
    """
    session = window.session
    shown = session.follower

    def ended(_status: str, _reason: str) -> None:
        session.run_ended.disconnect(ended)
        _show_study(window, sweep_folder, replace=False)  # the trial that ended is in the study now
        if session.follower is not shown:
            return
        known = frozenset(seen)
        call_in_background(lambda: next_trial(known), on_done=found,
                           on_failed=lambda message: session.note("warning", message), parent=window)

    def found(run: str | None) -> None:
        if run is None:
            _show_study(window, sweep_folder, replace=False)
            session.note("studio", ended_note + (" (the Sweep tab shows its trials)" if sweep_folder else ""))
            return
        if session.follower is not shown or session.running:
            return
        try:
            follow_on(window, server, run, control=control)
        except RuntimeError:
            return
        seen.add(run)
        session.note("studio", f"the sweep's next trial: {run}")
        _follow_next_trials(window, server, seen, control, next_trial, ended_note, sweep_folder)

    session.run_ended.connect(ended)


def _show_study(window: Any, sweep_folder: str | None, *, replace: bool) -> None:
    """Read a sweep folder's study into the Sweep tab, without switching to it.

    ``replace``: show it instead of another sweep (when it starts); else only read it again while the tab still shows
    it (a sweep the user opened meanwhile stays). A sweep running in the tab is never replaced.
    """
    controller = getattr(window, "sweep_controller", None)
    if sweep_folder is None or controller is None or controller.running:
        return
    if replace or controller.sweep_dir == sweep_folder:
        controller.watch(sweep_folder)


def sweep_args(*, n_trials: int, parallel: int) -> tuple[str, ...]:
    """The options of a sweep started in its job folder (the folder is the sweep folder)."""
    return ("--sweep", SWEEP_FILE, "--n_trials", str(n_trials), "--parallel", str(parallel), "--sweep_dir", ".")


def start_sweep_on(window: Any, target: RunTarget, config: RunConfig, sweep: dict[str, Any], *, n_trials: int,
                   parallel: int) -> bool:
    """Start ``trainer-core sweep`` on a server (detached) or as a SLURM job; either way each trial is followed in
    turn until the sweep's process (or job) has ended.

    Returns:
        False when nothing started (the problem is shown).
    """
    if target.kind == LOCAL:
        raise ValueError("a sweep on this computer is started by the Sweep controller")
    folder = Path(window.settings.runs_dir()) / ("remote" if target.kind == SERVER else "slurm") / (
        f"{_stem(config)}-sweep-{_stamp()}")
    try:
        config_file, files = bundle_for_server(config, folder, name="run.yaml")
        sweep_file = folder / SWEEP_FILE
        sweep_file.write_text(yaml.safe_dump(sweep, sort_keys=False), encoding="utf-8")
    except OSError as exc:
        window.show_problems([f"cannot write the sweep files: {exc}"])
        return False
    args = sweep_args(n_trials=n_trials, parallel=parallel)
    if target.kind == SERVER and target.server is not None:
        return start_bundle_on_server(window, target.server, "sweep", (config_file, [*files, sweep_file]),
                                      workdir=f"{JOBS_ROOT}/{folder.name}", args=args)
    return open_slurm_job(window, target, "sweep", config, bundle=(config_file, [*files, sweep_file]),
                          args=args) is not None


def open_slurm_job(window: Any, target: RunTarget, mode: str, config: RunConfig, *,
                   bundle: tuple[Path, list[Path]] | None = None, args: tuple[str, ...] = ()) -> Any:
    """The SLURM job form for ``config`` (pre-filled from its ``num_nodes``/``devices``), shown for review; once
    submitted, the job's run is followed in the window. Returns the dialog (None when it cannot be offered)."""
    from studio.qt.slurm_dialog import SlurmDialog  # noqa: PLC0415 - only when asked for

    shell = target.slurm_shell()
    if target.server is None and not shell.local_available():
        window.show_problems(["sbatch is not on this computer's PATH: run the studio on the cluster's login node "
                              "(or a machine that shares its file system), or choose \"SLURM on SERVER\" in Run on "
                              "after connecting to the login node (File ▸ Connect to a server…)."])
        return None
    stem, stamp = _stem(config), _stamp()
    folder = Path(window.settings.runs_dir()) / "slurm" / f"{stem}-{stamp}"
    try:
        if bundle is not None:
            config_file, files = bundle
        elif target.server is None:  # this computer shares the cluster's file system: paths stay as they are
            folder.mkdir(parents=True, exist_ok=True)
            config_file, files = folder / f"{stem}.yaml", []
            stoppable(config).save(config_file)  # the engine's SIGTERM stop: how Stop reaches the job's run
        else:
            config_file, files = bundle_for_server(stoppable(config), folder, name=f"{stem}.yaml")
    except OSError as exc:
        window.show_problems([f"cannot write the job's config: {exc}"])
        return None
    workdir = str(config_file.parent) if target.server is None else f"{JOBS_ROOT}/slurm-{stem}-{mode}-{stamp}"
    dialog = SlurmDialog(config_file, shell=shell, workdir=workdir, mode=mode, extra_files=tuple(files), args=args,
                         parent=window)
    if target.server is not None:
        dialog.python.setText(target.server.python)
    nodes, tasks, gpus = resources_from_flags(config.trainer_flags)
    if mode == "sweep":  # one process runs the study; its trials use the allocation's GPUs
        nodes, tasks = 1, 1
    dialog.prefill(nodes=nodes, tasks_per_node=tasks, gpus_per_node=gpus)
    session = window.session
    dialog.submitted.connect(lambda job: session.note(
        "studio", f"SLURM job {job} submitted ({target.label()}); its run is followed here once it starts"))

    def follow(run: str) -> None:
        job = str(dialog.job_id)
        control = SlurmRunControl(shell=shell, job_id=job)
        try:
            follow_on(window, target.server, run, control=control)
        except RuntimeError as exc:  # a local run of this window is in progress: the job goes on regardless
            window.show_problems([str(exc)])
            return
        watcher = dialog.watcher
        if mode == "sweep" and watcher is not None:  # each trial in turn, until the job has left the queue
            root, since = watcher.runs_root, watcher.submitted_at - 1
            _show_study(window, root if target.server is None else None, replace=True)
            _follow_next_trials(window, target.server, {run}, control,
                                lambda known: next_job_run(shell, job, root, since=since, seen=known),
                                f"the sweep's SLURM job {job} has ended; its folder: {root}",
                                sweep_folder=root if target.server is None else None)

    dialog.run_found.connect(follow)
    dialog.job_ended.connect(lambda state: session.note(
        "studio", f"SLURM job {dialog.job_id} ended: {state.state}" + (f" ({state.reason})" if state.reason else "")))
    dialog.open()
    return dialog
