"""The toolbar's Stop and Kill for a run started on a server (real sshd) or as a SLURM job (one-node cluster)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.models.run_state import RunStatus
from studio.qt.run_target import SERVER, SLURM, RunTarget
from studio.qt.slurm_dialog import SlurmDialog
from tests.remote.qt.test_run_target import tiny_window  # noqa: F401 - the fixture
from tests.remote.sshd import SshServer


def _gone(pid: int) -> bool:
    try:
        return " Z " in Path(f"/proc/{pid}/stat").read_text()  # a zombie has ended
    except OSError:
        return True


LONG = {"max_epochs": 100_000}  # runs until stopped


def _stop_when_training(window, qtbot) -> None:
    """Wait for the run's first metrics, then click Stop (Kill once asked)."""
    session = window.session
    qtbot.waitUntil(lambda: "loss" in session.model.metrics, timeout=180_000)
    assert window.stop_action.isEnabled() and window.stop_action.text() == "Stop", \
        "Stop is offered for a run this window started elsewhere"
    window.stop_action.trigger()
    assert session.model.status == RunStatus.STOPPING and window.stop_action.text() == "Kill"


@pytest.mark.slow  # a real fit on the server, stopped: about 25 s on 2 busy cores
def test_stop_on_a_server_ends_the_run_stopped_with_its_checkpoint_there(tiny_window, qtbot,  # noqa: F811
                                                                         sshd: SshServer, tmp_path) -> None:
    tiny_window.trainer_form.set_values(LONG)
    tiny_window.run_target_box.set_current(RunTarget(kind=SERVER, server=sshd.target))
    session = tiny_window.session
    with qtbot.waitSignal(session.run_started, timeout=180_000):
        assert tiny_window.launch("fit")
    _stop_when_training(tiny_window, qtbot)
    qtbot.waitUntil(lambda: session.model.ended, timeout=120_000)
    assert session.model.status == RunStatus.INTERRUPTED, session.model.reason
    [job] = (tmp_path / "server").iterdir()
    stopped = list(job.glob("lightning_logs/version_*/checkpoints/stopped-epoch=*.ckpt"))
    assert len(stopped) == 1, "the stop checkpoint is written on the server"
    assert any(e.get("kind") == "stopped" for e in session.model.extras.get("checkpoint_saved", [])), \
        "and named in the run's events, as for a local stop"
    assert not tiny_window.stop_action.isEnabled(), "nothing left to stop"


@pytest.mark.slow  # a real fit under srun on the one-node cluster, stopped: about 30 s on 2 busy cores
def test_stop_on_slurm_signals_the_job_and_the_run_ends_stopped_with_its_checkpoint(tiny_window, qtbot,  # noqa: F811
                                                                                    slurm_cluster) -> None:
    import sys

    tiny_window.trainer_form.set_values(LONG)
    tiny_window.run_target_box.set_current(RunTarget(kind=SLURM, slurm_env=(("SLURM_CONF",
                                                                             str(slurm_cluster.conf)),)))
    assert tiny_window.launch("fit")
    [dialog] = tiny_window.findChildren(SlurmDialog)
    dialog.python.setText(sys.executable)
    session = tiny_window.session
    with qtbot.waitSignal(session.run_started, timeout=180_000):
        dialog.submit_button.click()
    _stop_when_training(tiny_window, qtbot)
    qtbot.waitUntil(lambda: session.model.ended, timeout=120_000)
    assert session.model.status == RunStatus.INTERRUPTED, session.model.reason
    assert list(dialog.config.parent.glob("lightning_logs/version_*/checkpoints/stopped-epoch=*.ckpt"))
    qtbot.waitUntil(lambda: any("ended: COMPLETED" in line for _level, line in session.model.console),
                    timeout=60_000)


@pytest.mark.slow  # a real fit on the server, killed: about 20 s on 2 busy cores
def test_kill_on_a_server_ends_the_run_at_once(tiny_window, qtbot, sshd: SshServer, tmp_path) -> None:  # noqa: F811
    tiny_window.trainer_form.set_values(LONG)
    tiny_window.run_target_box.set_current(RunTarget(kind=SERVER, server=sshd.target))
    session = tiny_window.session
    with qtbot.waitSignal(session.run_started, timeout=180_000):
        assert tiny_window.launch("fit")
    qtbot.waitUntil(lambda: "loss" in session.model.metrics, timeout=180_000)
    tiny_window.stop_action.trigger()
    tiny_window.stop_action.trigger()  # Kill, before the stop had its batch boundary or not: either way it ends
    qtbot.waitUntil(lambda: session.model.ended, timeout=60_000)
    assert session.model.status == RunStatus.INTERRUPTED
    started = (re.search(r"started on .* \(pid (\d+)", line) for _level, line in session.model.console)
    [pid] = [int(m.group(1)) for m in started if m]
    qtbot.waitUntil(lambda: _gone(pid), timeout=30_000)  # the server is this machine
