"""Checkpoint files: atomic writes, safe loads, and the trainer state that goes in and comes back."""

from __future__ import annotations

import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError

__all__ = ["CheckpointError", "save_checkpoint_file", "load_checkpoint_file", "VERSION_KEY"]

VERSION_KEY = "trainer_core_version"


class CheckpointError(MisconfigurationError):
    """A checkpoint file is missing, corrupt, foreign, or needs unsafe unpickling."""


def save_checkpoint_file(checkpoint: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``checkpoint`` to ``path`` atomically: a temp file in the same folder, fsync, then rename.

    A process killed mid-write leaves the previous file intact and no truncated file under the final name.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(checkpoint, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def load_checkpoint_file(path: str | os.PathLike[str], map_location: Any = "cpu", trust: bool = False
                         ) -> dict[str, Any]:
    """Load a checkpoint with ``torch.load(weights_only=True)`` unless ``trust`` opts in to full unpickling.

    Raises:
        CheckpointError: missing, unreadable, truncated or foreign files, and files that need full unpickling
            (which could run code) when ``trust`` is False.
    """
    target = Path(path)
    if not target.exists():
        raise CheckpointError(f"checkpoint {str(target)!r} does not exist; check the path")
    if target.is_dir():
        raise CheckpointError(f"checkpoint {str(target)!r} is a folder; give the path of a .ckpt file")
    if target.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {str(target)!r} is empty (0 bytes); it was probably cut off while writing")
    try:
        checkpoint = torch.load(target, map_location=map_location, weights_only=not trust)
    except pickle.UnpicklingError as err:
        if not trust and "weights_only" in str(err):
            raise CheckpointError(
                f"checkpoint {str(target)!r} contains Python objects that need full unpickling, which can run "
                "arbitrary code. Load it only if you trust its source: set trainer.trust_checkpoint = True, pass "
                "Model.load_from_checkpoint(..., trust_checkpoint=True), or add --trust_checkpoint on the command "
                "line") from err
        raise CheckpointError(f"checkpoint {str(target)!r} is corrupt or not a checkpoint: {err}") from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as err:
        raise CheckpointError(
            f"checkpoint {str(target)!r} could not be read ({type(err).__name__}: {err}); the file is corrupt, "
            "truncated or not a PyTorch checkpoint") from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        keys = sorted(checkpoint)[:8] if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"{str(target)!r} is not a trainer checkpoint (no 'state_dict'; found {keys}). Checkpoints come from "
            "Trainer.save_checkpoint or ModelCheckpoint")
    return checkpoint
