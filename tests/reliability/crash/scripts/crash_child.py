"""A small fit that kills itself with SIGKILL at a chosen moment (the crash-consistency tests run it).

Usage: crash_child.py ROOT PHASE N [CKPT_PATH]

PHASE picks the moment, N which occurrence of it (1-based):
    checkpoint  half-way through writing the bytes of the N-th checkpoint (to its temporary file)
    replace     just before the N-th atomic rename (checkpoints and hparams.yaml: written, fsynced, not renamed)
    events      half-way through the N-th events.jsonl line
    hparams     half-way through the N-th hparams.yaml write
    none        no kill: run to the end (the parent may still kill it after a delay: any moment, exit included)
At the end the final weights go to ROOT/final.pt and "FIT DONE" is printed.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root, for tests.helpers

import trainer_core as pl  # noqa: E402
from tests.helpers.boring_model import BoringModel  # noqa: E402
from trainer_core.callbacks import ModelCheckpoint  # noqa: E402
from trainer_core.loggers import CSVLogger, hparams_io  # noqa: E402
from trainer_core.telemetry.recorder import EventRecorder  # noqa: E402

root, phase, nth = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ckpt_path = sys.argv[4] if len(sys.argv) > 4 else None
calls = {"n": 0}


def _due() -> bool:
    calls["n"] += 1
    return calls["n"] == nth


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if phase == "checkpoint":
    real_save = torch.save

    def save(obj: Any, f: Any, *args: Any, **kwargs: Any) -> None:
        if not _due() or not hasattr(f, "write"):
            return real_save(obj, f, *args, **kwargs)
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        f.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        f.flush()
        _die()

    torch.save = save
elif phase == "replace":
    real_replace = os.replace

    def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        if _due():
            _die()
        real_replace(src, dst, *args, **kwargs)

    os.replace = replace
elif phase == "events":
    real_emit = EventRecorder.emit

    def emit(self: EventRecorder, event_type: str, **fields: Any) -> dict[str, Any]:
        if self._file is not None and _due():
            self._file.write('{"type": "' + event_type[: len(event_type) // 2])
            self._file.flush()
            _die()
        return real_emit(self, event_type, **fields)

    EventRecorder.emit = emit  # type: ignore[method-assign]
elif phase == "hparams":
    real_write = hparams_io.atomic_write_text

    def write(path: str, text: str) -> None:
        if _due():
            with open(path + ".partial", "w", encoding="utf-8") as handle:
                handle.write(text[: len(text) // 2])
            # The real writer's temporary file, half written, then the kill.
            import tempfile

            fd, _ = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=os.path.dirname(path))
            os.write(fd, text[: len(text) // 2].encode())
            _die()
        real_write(path, text)

    hparams_io.atomic_write_text = write

pl.seed_everything(0)
model = BoringModel(length=8)
trainer = pl.Trainer(
    default_root_dir=str(root), max_epochs=3, limit_val_batches=0, num_sanity_val_steps=0, log_every_n_steps=1,
    enable_progress_bar=False, enable_model_summary=False, logger=CSVLogger(str(root)),
    callbacks=[ModelCheckpoint(dirpath=str(root / "checkpoints"), save_last=True, every_n_train_steps=1,
                               save_top_k=-1)])
trainer.fit(model, ckpt_path=ckpt_path)
torch.save(model.state_dict(), root / "final.pt")
print("FIT DONE", flush=True)
