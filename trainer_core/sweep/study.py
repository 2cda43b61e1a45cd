"""The Optuna side of a sweep: storage, sampler, pruner, and opening the study.

Optuna (a well-kept library made for this) holds the study: samplers propose values, pruners judge intermediate
values, and its storage is the one place every process reads and writes, so a sweep survives the app closing and
several processes (or SLURM jobs) can share one study through the same storage URL.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from trainer_core.sweep.spec import SweepError, SweepSpec

__all__ = ["default_storage", "open_study", "make_pruner", "make_sampler", "storage_from_url"]

# Seconds an SQLite writer waits for another process's lock before failing: trials report from several processes.
_SQLITE_BUSY_TIMEOUT_S = 60
_OPEN_ATTEMPTS = 5


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:  # pragma: no cover - optuna is a dependency
        raise SweepError("sweeps need the `optuna` package: pip install optuna") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def default_storage(sweep_dir: str | Path) -> str:
    """An SQLite file in the sweep folder."""
    return f"sqlite:///{Path(sweep_dir).resolve() / 'study.db'}"


def storage_from_url(url: str) -> Any:
    """An Optuna storage for ``url``; SQLite gets a busy timeout so parallel trials wait instead of failing."""
    optuna = _optuna()
    if url.startswith("sqlite:"):
        return optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": _SQLITE_BUSY_TIMEOUT_S}})
    if url.startswith("journal:"):
        # journal:PATH: Optuna's append-only journal file, for file systems where SQLite locking is unreliable (NFS).
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(url[len("journal:"):]))
    return url  # any other RDB URL (postgresql://, mysql://): Optuna connects itself


def make_sampler(spec: SweepSpec) -> Any:
    optuna = _optuna()
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    if spec.sampler == "grid":
        space = {p.name: p.grid_values() for p in spec.parameters}
        return optuna.samplers.GridSampler(space, seed=spec.seed)
    return optuna.samplers.TPESampler(seed=spec.seed)


def make_pruner(pruner: dict[str, Any]) -> Any:
    optuna = _optuna()
    options = {k: v for k, v in pruner.items() if k != "type"}
    if pruner["type"] == "median":
        return optuna.pruners.MedianPruner(**options)
    if pruner["type"] == "hyperband":
        return optuna.pruners.HyperbandPruner(**options)
    return optuna.pruners.NopPruner()


def open_study(spec: SweepSpec, storage_url: str, *, with_sampler: bool = True) -> Any:
    """Create the study, or load it when the storage already holds one of this name.

    Raises:
        SweepError: the storage cannot be opened, or holds the study with the other direction.
    """
    optuna = _optuna()
    assert spec.direction is not None, "the direction is resolved before the study opens"
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            study = optuna.create_study(
                study_name=spec.study_name, storage=storage_from_url(storage_url), direction=spec.direction,
                sampler=make_sampler(spec) if with_sampler else None, pruner=make_pruner(spec.pruner),
                load_if_exists=True)
            break
        except Exception as err:  # noqa: BLE001 - a storage problem of any kind becomes one clear message
            # Processes that open a new storage at the same moment race to create its tables (or the study): the
            # loser's error is gone a moment later, when the winner has committed.
            if attempt + 1 == _OPEN_ATTEMPTS:
                raise SweepError(f"cannot open the sweep storage {storage_url}: "
                                 f"{' '.join(str(err).split())[:300]}") from None
            time.sleep(0.2 * (attempt + 1))
    stored = study.direction.name.lower()
    if stored != spec.direction:
        raise SweepError(f"the study {spec.study_name!r} in {storage_url} was created to {stored} its metric; this "
                         f"sweep asks to {spec.direction}. Use another --storage or study_name.")
    return study
