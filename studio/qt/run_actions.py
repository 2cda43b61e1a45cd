"""What the Runs view's actions do in the window: Resume from here, Test this checkpoint, Open in TensorBoard.

The Runs view only emits the checkpoint or run folder; these functions load that run's configuration into the forms
(its ``config.yaml``, so the model, data and flags are the ones that made the checkpoint), set the checkpoint and
start the run, or start TensorBoard on the folder and open it in the browser.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess, QTimer, QUrl
from PySide6.QtGui import QDesktopServices

__all__ = ["connect", "open_in_tensorboard", "resume_from", "test_checkpoint", "tensorboard_command"]

# TensorBoard needs a few seconds to read the event files and listen; the browser opens after that.
_BROWSER_DELAY_MS = 4000


def connect(window: Any, runs_view: Any) -> None:
    """Route the Runs view's action signals to the window."""
    runs_view.resume_requested.connect(lambda path: resume_from(window, path))
    runs_view.test_requested.connect(lambda path: test_checkpoint(window, path))
    runs_view.tensorboard_requested.connect(lambda path: open_in_tensorboard(window, path))


def _load_run_config(window: Any, checkpoint: str) -> bool:
    """Put the configuration of the run that wrote ``checkpoint`` into the forms, unless they already hold its
    script (then the user's current flags win: raising max_epochs and resuming is the usual way to train longer).

    ``<run>/checkpoints/x.ckpt`` -> ``<run>/config.yaml``; a run without one leaves the forms as they are.
    """
    config = Path(checkpoint).resolve().parent.parent / "config.yaml"
    if not config.is_file():
        return True
    import yaml

    try:
        script = ((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("model") or {}).get("script")
    except (OSError, yaml.YAMLError, AttributeError):
        script = None
    info = window.project.script_info
    if script and info is not None and Path(str(script)).resolve() == Path(info.path).resolve():
        return True
    return bool(window.load_config_file(str(config)))


def resume_from(window: Any, checkpoint: str) -> bool:
    """Continue training from ``checkpoint`` with the configuration of its run; False when it cannot start."""
    if not _load_run_config(window, checkpoint):
        return False
    window.project.set_checkpoint(checkpoint, resume=True, note="Resumed from the Runs tab: Fit continues here.")
    return bool(window.launch("fit"))


def test_checkpoint(window: Any, checkpoint: str) -> bool:
    """Run Test with the weights of ``checkpoint`` and the configuration of its run."""
    if not _load_run_config(window, checkpoint):
        return False
    window.project.set_checkpoint(checkpoint, note="From the Runs tab: Test evaluates these weights.")
    return bool(window.launch("test"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tensorboard_command(run_dir: str, port: int) -> list[str]:
    """The TensorBoard server for ``run_dir`` on ``127.0.0.1:port`` (the package is a dependency)."""
    return [sys.executable, "-m", "tensorboard.main", "--logdir", run_dir, "--host", "127.0.0.1", "--port", str(port)]


def open_in_tensorboard(window: Any, run_dir: str) -> str:
    """Start TensorBoard on ``run_dir`` (detached: it outlives the studio) and open it in the browser; returns its
    address."""
    port = _free_port()
    program, *args = tensorboard_command(run_dir, port)
    started, _pid = QProcess.startDetached(program, args)
    url = f"http://127.0.0.1:{port}/"
    if not started:
        window.show_problems([f"TensorBoard did not start: run `{' '.join(tensorboard_command(run_dir, port))}`."])
        return ""
    window.statusBar().showMessage(f"TensorBoard on {run_dir} at {url} (opening the browser…)", 15000)
    QTimer.singleShot(_BROWSER_DELAY_MS, lambda: QDesktopServices.openUrl(QUrl(url)))
    return url
