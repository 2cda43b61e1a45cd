"""Seeding of every random number generator the engine touches."""

from __future__ import annotations

import logging
import os
import random

import numpy as np
import torch

__all__ = ["seed_everything", "reset_seed"]

log = logging.getLogger(__name__)

_MAX_SEED = np.iinfo(np.uint32).max
_MIN_SEED = np.iinfo(np.uint32).min


def seed_everything(seed: int | None = None, workers: bool = False) -> int:
    """Seed python, numpy and torch (all devices) and record the seed in ``PL_GLOBAL_SEED``.

    Args:
        seed: the seed; None reads ``PL_GLOBAL_SEED`` or falls back to 0.
        workers: also set ``PL_SEED_WORKERS=1`` so dataloader workers derive distinct seeds.

    Returns:
        The seed used.

    Examples:
        >>> seed_everything(7)
        7
    """
    if seed is None:
        env = os.environ.get("PL_GLOBAL_SEED")
        try:
            seed = int(env) if env is not None else 0
        except ValueError:
            log.warning("PL_GLOBAL_SEED=%r is not an integer; using 0", env)
            seed = 0
    if not (_MIN_SEED <= seed <= _MAX_SEED):
        log.warning("seed %s is outside [%s, %s]; using 0", seed, _MIN_SEED, _MAX_SEED)
        seed = 0
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    os.environ["PL_SEED_WORKERS"] = str(int(workers))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return seed


def reset_seed() -> None:
    """Re-apply the seed of a previous ``seed_everything`` (used in freshly started worker processes)."""
    seed = os.environ.get("PL_GLOBAL_SEED")
    if seed is not None:
        seed_everything(int(seed), workers=bool(int(os.environ.get("PL_SEED_WORKERS", "0"))))


def worker_init_function(worker_id: int) -> None:  # pragma: no cover - runs in dataloader workers
    """Give each dataloader worker its own seed derived from the global seed (``workers=True``)."""
    base = int(os.environ.get("PL_GLOBAL_SEED", "0"))
    seed = (base + worker_id * 1000003) % _MAX_SEED
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def capture_rng_state() -> dict:
    """RNG states as plain, weights_only-loadable objects (for exact mid-epoch resume)."""
    np_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": _python_state_as_lists(),
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict) -> None:
    if "torch" in state:
        torch.set_rng_state(state["torch"])
    if "python" in state:
        random.setstate(_to_tuples(state["python"]))
    if "numpy" in state:
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _python_state_as_lists() -> list:
    """``random.getstate()`` is (version, 625 ints, gauss); weights_only checkpoints keep lists of ints fine."""
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _to_tuples(obj):
    if isinstance(obj, list):
        return tuple(_to_tuples(o) for o in obj)
    return obj
