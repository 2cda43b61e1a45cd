"""Screenshots of File ▸ Connect to a server…, the SLURM job form, and the window at 1280x720 with "Run on" set to a
server, following the fit it started there, for docs/screenshots/ (run by hand as root, offscreen; not a test):

    .venv/bin/python tests/remote/make_screenshots.py

Real servers: the throw-away sshd and one-node SLURM cluster of the tests, runs written by real command-line fits
and a real fit started on the server from the window.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
EXAMPLE = ROOT / "resources" / "examples" / "mlp_classifier.yaml"


def _wait(condition, timeout_s: float = 60.0) -> None:  # noqa: ANN001
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()


def _run_on_server(server, tmp: Path) -> Path:  # noqa: ANN001 - a tests.remote.sshd.SshServer
    """The window at 1280x720: "Run on" points at the server, and the fit it started there is followed live."""
    from studio.qt import run_target_launch
    from studio.qt.run_target import SERVER, RunTarget

    os.environ["TRAINING_STUDIO_SETTINGS"] = str(tmp / "settings.ini")
    os.environ["TRAINING_STUDIO_RUNS_DIR"] = str(tmp / "runs")
    run_target_launch.JOBS_ROOT = str(tmp / "server")  # the "server" is this machine: keep its home folder clean
    from studio.app import create_window

    # This example makes its data in its DataModule script (sent along); mlp_classifier.py reads a CSV next to it,
    # which would have to be on the server already.
    window = create_window(str(ROOT / "resources" / "examples" / "datamodule_example.py"))
    window.resize(1280, 720)
    window.switch_theme("light")  # as the app starts; without a theme the selected view's name is drawn invisible
    window.show()
    window.ensure_views()
    window.trainer_form.set_values({**window.trainer_form.values()[0], "max_epochs": 12})
    window.run_target_box.set_current(RunTarget(kind=SERVER, server=server.target))
    window.launch("fit")
    _wait(lambda: window.session.model.ended, 300)
    window.metrics_view.refresh(force=True)
    _wait(lambda: False, 1)
    out = OUT / "run-on-server-1280x720.png"
    window.grab().save(str(out))
    window.session.shutdown()
    window.sweep_controller.shutdown()
    window.close()
    return out


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from studio.qt.remote_dialog import RemoteDialog
    from studio.qt.slurm_dialog import SlurmDialog
    from studio.services.remote.slurm import SlurmShell
    from tests.remote.cluster import start_cluster
    from tests.remote.sshd import start_sshd

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        logs = Path(tmp) / "project"
        logs.mkdir()
        for epochs in (1, 2):
            subprocess.run([sys.executable, "-m", "trainer_core", "fit", "--config", str(EXAMPLE), "--max_epochs",
                            str(epochs), "--enable_progress_bar", "false"], cwd=logs, check=True, capture_output=True)
        server = start_sshd(Path(tmp) / "sshd", python=sys.executable)
        cluster = start_cluster(Path(tmp) / "slurm")
        try:
            dialog = RemoteDialog()
            dialog.set_target(server.target)
            dialog.root.setText(str(logs / "lightning_logs"))
            dialog.show()
            dialog.browse()
            _wait(lambda: dialog.table.rowCount() == 2)
            dialog.grab().save(str(OUT / "remote-connect.png"))
            job = Path(tmp) / "job"
            job.mkdir()
            config = job / "mlp_classifier.yaml"
            config.write_text(EXAMPLE.read_text().replace("script: mlp_classifier.py",
                                                          f"script: {EXAMPLE.with_suffix('.py')}"))
            slurm = SlurmDialog(config, shell=SlurmShell(env=(("SLURM_CONF", str(cluster.conf)),)),
                                workdir=str(job))
            slurm.tasks.setValue(2)
            slurm.time_limit.setText("00:30:00")
            slurm.python.setText(sys.executable)
            slurm.show()
            slurm.submit()
            _wait(lambda: "RUNNING" in slurm.status.text())
            slurm.grab().save(str(OUT / "slurm-submit.png"))
            slurm.cancel_job()
            _wait(lambda: "CANCELLED" in slurm.status.text(), 30)
            slurm.close()
            _run_on_server(server, Path(tmp))
        finally:
            cluster.stop()
            server.stop()
    del app
    print(f"wrote {OUT / 'remote-connect.png'}, {OUT / 'slurm-submit.png'} and {OUT / 'run-on-server-1280x720.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
