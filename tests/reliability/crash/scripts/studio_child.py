"""A headless studio session that launches a fit, then waits to be killed (the studio-crash tests run it).

Usage: studio_child.py RUNS_DIR MODEL_SCRIPT attached|detached

Prints "TRAINING <pid>" (the training child's process id) once the run's first events arrived, after detaching it
in the ``detached`` case; then keeps the event loop running until the test kills this process with SIGKILL.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root

from studio.models.config import RunConfig  # noqa: E402
from studio.services.session import RunSession  # noqa: E402

runs_dir, script, how = sys.argv[1], sys.argv[2], sys.argv[3]
app = QCoreApplication([])
session = RunSession()
config = RunConfig(model_script=script, seed=0, model_init_args={"step_sleep": 0.01},
                   trainer_flags={"max_epochs": 3, "limit_val_batches": 0, "num_sanity_val_steps": 0})
session.launch(config, "fit", runs_dir)


def announce() -> None:
    if session.controller.received == 0:
        return
    pid = session.controller.pid
    if how == "detached":
        session.detach()
    print(f"TRAINING {pid}", flush=True)
    timer.stop()


timer = QTimer()
timer.timeout.connect(announce)
timer.start(20)
app.exec()
