"""File ▸ Connect to a server…: browse, follow and copy back against a real sshd on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from studio.models.run_state import RunStatus
from studio.qt.remote_dialog import RemoteDialog
from studio.services.remote.calls import wait_for_calls
from studio.services.remote.session_follow import follow_remote_run
from studio.services.session import RunSession
from tests.remote.sshd import SshServer


def _finished_run(folder: Path) -> Path:
    folder.mkdir(parents=True)
    events = [{"type": "run_started", "mode": "fit", "seq": 0}, {"type": "stage_started", "stage": "fit", "seq": 1},
              {"type": "metrics", "step": 0, "metrics": {"loss": 1.0}, "seq": 2},
              {"type": "stage_finished", "stage": "fit", "status": "finished", "seq": 3}]
    (folder / "events.jsonl").write_text("".join(json.dumps(event) + "\n" for event in events))
    return folder


def test_browse_then_follow_and_copy_back(qtbot, sshd: SshServer, tmp_path) -> None:
    run = _finished_run(tmp_path / "logs" / "mlp" / "version_0")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    dialog = RemoteDialog(settings=settings)
    qtbot.addWidget(dialog)
    dialog.set_target(sshd.target)
    dialog.root.setText(str(tmp_path / "logs"))
    assert not dialog.follow_button.isEnabled()
    dialog.browse_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30_000)
    assert dialog.table.item(0, 0).text() == str(run) and dialog.follow_button.isEnabled()
    with qtbot.waitSignal(dialog.copied, timeout=30_000) as copied:
        dialog.copy_to(str(tmp_path / "local"))
    assert Path(copied.args[0], "events.jsonl").read_bytes() == (run / "events.jsonl").read_bytes()
    with qtbot.waitSignal(dialog.follow_requested) as follow:
        dialog.follow_button.click()
    assert follow.args == [sshd.target, str(run)]
    again = RemoteDialog(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert again.target() == replace(sshd.target, known_hosts_file=None, connect_timeout_s=10)
    assert again.root.text() == str(tmp_path / "logs"), "the connection that listed runs is offered again"
    assert "password" not in (tmp_path / "settings.ini").read_text().lower()
    assert wait_for_calls()


def test_a_connection_error_is_shown_in_the_dialog(qtbot, sshd: SshServer, tmp_path) -> None:
    dialog = RemoteDialog()
    qtbot.addWidget(dialog)
    dialog.set_target(replace(sshd.target, identity_file=str(tmp_path / "no_such_key")))
    dialog.browse_button.click()
    qtbot.waitUntil(lambda: "refused the login" in dialog.status.text(), timeout=30_000)
    assert dialog.browse_button.isEnabled() and dialog.table.rowCount() == 0
    dialog.host.setText("")
    dialog.browse_button.click()
    assert dialog.status.text().startswith("give the server's host name")
    assert wait_for_calls()


def test_a_followed_remote_run_fills_the_session_and_ends(qtbot, sshd: SshServer, tmp_path) -> None:
    run = _finished_run(tmp_path / "run")
    session = RunSession()
    with qtbot.waitSignal(session.run_ended, timeout=30_000) as ended:
        follow_remote_run(session, sshd.target, str(run))
    assert ended.args[0] == RunStatus.FINISHED
    assert session.model.log_dir.endswith(str(run))
    session.stop_following()


def test_the_file_menu_opens_the_dialog_and_follow_shows_the_run_in_the_window(qtbot, sshd: SshServer,
                                                                                tmp_path, monkeypatch) -> None:
    from PySide6.QtGui import QAction

    from studio.app import create_window

    monkeypatch.setenv("TRAINING_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("TRAINING_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    run = _finished_run(tmp_path / "run")
    window = create_window(None)
    qtbot.addWidget(window)
    try:
        [action] = [a for a in window.findChildren(QAction) if a.text() == "Connect to a server…"]
        action.trigger()
        [dialog] = window.findChildren(RemoteDialog)
        with qtbot.waitSignal(window.session.run_ended, timeout=30_000):
            dialog.follow_requested.emit(sshd.target, str(run))
        assert window.session.model.status == RunStatus.FINISHED
    finally:
        window.session.shutdown()
        window.sweep_controller.shutdown()


TINY_MODEL = """
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl


class Tiny(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):  # a sweep's metric is one logged in validation
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0))
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=16)

    def val_dataloader(self):
        x = torch.randn(16, 4, generator=torch.Generator().manual_seed(1))
        return DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=16)
"""


@pytest.mark.slow  # a real fit started on the server: about 25 s on 2 busy cores
def test_start_on_this_server_runs_detached_and_follows_its_run(qtbot, sshd: SshServer, tmp_path) -> None:
    from studio.models.config import RunConfig
    from studio.services.remote.launch import bundle_for_server

    script = tmp_path / "tiny.py"  # its data is made in the script, so the script is all the server needs
    script.write_text(TINY_MODEL)
    config = RunConfig(model_script=str(script), trainer_flags={"max_epochs": 2}, seed=0)
    dialog = RemoteDialog(bundle=lambda: bundle_for_server(config, tmp_path / "local"))
    qtbot.addWidget(dialog)
    dialog.set_target(sshd.target)
    dialog.job_folder.setText(str(tmp_path / "server" / "job"))
    with qtbot.waitSignal(dialog.follow_requested, timeout=180_000) as follow:
        dialog.start_button.click()
    assert follow.args[1].startswith(str(tmp_path / "server" / "job" / "lightning_logs"))
    assert (tmp_path / "server" / "job" / "tiny.py").exists(), "the model script was sent"
    from studio.services.remote.control import DetachedRunControl

    assert isinstance(dialog.run_control, DetachedRunControl) and dialog.run_control.target == sshd.target, \
        "the window's Stop and Kill reach the run the dialog started"
    session = RunSession()
    with qtbot.waitSignal(session.run_ended, timeout=180_000) as ended:
        follow_remote_run(session, *follow.args)
    assert ended.args[0] == RunStatus.FINISHED
    session.stop_following()
    assert wait_for_calls()
