"""A run that another process is still writing opens live in the window, and ends there when it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from studio.protocol.run_end import is_live_run

ROOT = Path(__file__).resolve().parents[3]


def test_a_run_being_written_is_followed_live_from_the_window(make_window, qtbot, tmp_path: Path) -> None:
    window = make_window()  # first: building the window must not eat into the run's time
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    fit = subprocess.Popen([sys.executable, "-m", "trainer_core", "fit", "--config",
                            str(ROOT / "resources" / "examples" / "mlp_classifier.yaml"), "--max_epochs", "4",
                            "--enable_progress_bar", "false", "--default_root_dir", str(tmp_path)],
                           cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        events = tmp_path / "lightning_logs" / "version_0" / "events.jsonl"
        qtbot.waitUntil(lambda: events.is_file() and events.stat().st_size > 0, timeout=120_000)
        assert is_live_run(events.parent)
        from studio.qt.window_files import open_run

        with qtbot.waitSignal(window.session.run_ended, timeout=300_000) as ended:
            open_run(window, str(events.parent))
            assert window.session.follower is not None, "a run still being written is followed, not replayed"
        assert ended.args[0] == "finished"
        assert fit.wait(timeout=60) == 0
        assert not is_live_run(events.parent)
        assert window.session.follower is None or window.session.follower.finished
        store = window.session.model.metrics
        assert "val_loss" in store.names() and len(store.series("val_loss")) == 4
    finally:
        if fit.poll() is None:
            fit.kill()
        fit.wait()
