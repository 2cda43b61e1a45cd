"""1.x ``pytorch_lightning.utilities.cloud_io``: read and write checkpoint files (local paths and http URLs).

1.x scripts and tests write ``from pytorch_lightning.utilities.cloud_io import load as pl_load`` to read a
checkpoint dictionary. Reading stays weights-only (tensors, numbers, strings, containers), as everywhere in this
package, so loading a file never runs code from it.
"""

from __future__ import annotations

import os
from typing import Any

import torch

__all__ = ["atomic_save", "load"]


def load(path_or_url: str | os.PathLike[str], map_location: Any = None) -> Any:
    """The object stored in a ``torch.save`` file or at an http(s) URL, read weights-only."""
    text = str(path_or_url)
    if text.startswith(("http://", "https://")):
        return torch.hub.load_state_dict_from_url(text, map_location=map_location, weights_only=True)
    return torch.load(path_or_url, map_location=map_location, weights_only=True)


def atomic_save(checkpoint: dict[str, Any], filepath: str | os.PathLike[str]) -> None:
    """Write ``checkpoint`` so that a reader never sees a half-written file (temp file, then rename)."""
    from trainer_core.trainer.checkpoint_io import save_checkpoint_file

    save_checkpoint_file(checkpoint, filepath)
