"""The Runs view's actions in the window: Resume from here, Test this checkpoint, Open in TensorBoard."""

from __future__ import annotations

from pathlib import Path

from studio.qt import run_actions


def _fit(window, qtbot, epochs: int = 1) -> Path:
    window.trainer_form.set_values({"max_epochs": epochs})
    assert window.launch("fit")
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        pass
    assert ended.args[0] == "finished", window.console_view.plain_text()
    return Path(window.session.model.log_dir)


def test_resume_from_here_continues_the_run_from_its_checkpoint(make_window, qtbot):
    window = make_window()  # the bundled example: its ModelCheckpoint keeps last.ckpt
    first = _fit(window, qtbot)
    last = first / "checkpoints" / "last.ckpt"
    assert last.is_file()
    window.trainer_form.set_values({"max_epochs": 3})  # train longer: the usual reason to resume
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        window.dashboard_views["Runs"].resume_requested.emit(str(last))
        assert window.session.running
    assert ended.args[0] == "finished", window.console_view.plain_text()
    spec = window.session.last_request["spec"]
    assert spec["ckpt_path"] == str(last) and spec["trainer_flags"]["max_epochs"] == 3
    assert Path(window.session.model.log_dir) != first, "a resumed run writes a run folder of its own"
    assert window.session.model.progress.epoch == 2, "epochs 1 and 2 trained after the checkpoint of epoch 0"


TESTABLE = """
import torch
import trainer_core as pl
from torch.utils.data import DataLoader, TensorDataset


class Testable(pl.LightningModule):
    def __init__(self, lr: float = 0.1):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(2, 1)
        x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
        self.data = TensorDataset(x, x.sum(1, keepdim=True))

    def training_step(self, batch, batch_idx):
        return torch.nn.functional.mse_loss(self.net(batch[0]), batch[1])

    def test_step(self, batch, batch_idx):
        self.log("test_mse", torch.nn.functional.mse_loss(self.net(batch[0]), batch[1]))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=16)

    def test_dataloader(self):
        return DataLoader(self.data, batch_size=16)
"""


def test_test_this_checkpoint_evaluates_it(make_window, qtbot, tmp_path):
    script = tmp_path / "testable.py"
    script.write_text(TESTABLE)
    window = make_window(str(script))
    run = _fit(window, qtbot)
    checkpoint = next((run / "checkpoints").glob("*.ckpt"))
    with qtbot.waitSignal(window.session.run_ended, timeout=120_000) as ended:
        window.dashboard_views["Runs"].test_requested.emit(str(checkpoint))
    assert ended.args[0] == "finished", window.console_view.plain_text()
    assert window.session.last_request["spec"]["ckpt_path"] == str(checkpoint)
    assert window.session.model.mode == "test" and "test_mse" in window.session.model.latest


def test_open_in_tensorboard_starts_it_on_the_run_and_opens_the_browser(make_window, qtbot, monkeypatch, tmp_path):
    window = make_window()
    started: list[tuple[str, list[str]]] = []
    opened: list[str] = []
    monkeypatch.setattr(run_actions.QProcess, "startDetached",
                        staticmethod(lambda program, args: (started.append((program, list(args))) or True, 4242)))
    monkeypatch.setattr(run_actions.QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url.toString())))
    monkeypatch.setattr(run_actions, "_BROWSER_DELAY_MS", 10)
    window.dashboard_views["Runs"].tensorboard_requested.emit(str(tmp_path))
    assert started and started[0][1][:3] == ["-m", "tensorboard.main", "--logdir"] and started[0][1][3] == str(tmp_path)
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    assert opened[0].startswith("http://127.0.0.1:")
    assert "TensorBoard on" in window.statusBar().currentMessage()
