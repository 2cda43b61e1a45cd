"""The training child ends without the interpreter's slow module teardown, yet loses nothing a normal exit keeps."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from studio.models.config import RunConfig
from studio.services.session import RunSession

MODEL = textwrap.dedent('''
    import atexit, threading
    from pathlib import Path
    from tiny_model import TinyModel

    OUT = Path({out!r})


    class Model(TinyModel):
        def on_train_end(self):
            # A user's clean-up at exit and a background writer still busy when the run returns.
            atexit.register(lambda: (OUT / "atexit.txt").write_text("ran"))
            def upload():
                threading.Event().wait(0.3)  # a slow upload: still running when the child's work is done
                (OUT / "thread.txt").write_text("done")
            threading.Thread(target=upload, daemon=False).start()
            print("buffered text the child must flush", end="")
''')


@pytest.fixture
def session(qtbot):
    session = RunSession()
    yield session
    session.shutdown()


@pytest.mark.parametrize("fail", [False, True])
def test_child_runs_exit_handlers_and_threads_before_it_ends(session, qtbot, tmp_path: Path, scripts: Path,
                                                             fail: bool) -> None:
    script = tmp_path / "exit_model.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(scripts)!r})\n" + MODEL.format(out=str(tmp_path)))
    flags = {"max_epochs": 1, "limit_train_batches": 2, "limit_val_batches": 0, "enable_model_summary": False,
             "default_root_dir": str(tmp_path / "runs")}
    args = {"fail_at_step": 1} if fail else {}
    config = RunConfig(model_script=str(script), model_class="Model", model_init_args=args, trainer_flags=flags)
    with qtbot.waitSignal(session.run_ended, timeout=60_000) as ended:
        session.launch(config, "fit", tmp_path / "runs")
    status, reason = ended.args
    if fail:
        # A failed run still exits with code 1 (the reason names the user's error, not an exit code).
        assert status == "failed" and "ValueError" in reason, reason
        return
    assert status == "finished", reason
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert (tmp_path / "thread.txt").read_text() == "done"
    assert any("buffered text the child must flush" in text for _, text in session.model.console)
