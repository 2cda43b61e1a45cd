"""Logger base class, the no-op logger, a collection of loggers, and the rank-zero guard.

The trainer talks to loggers only through :class:`Logger`: it converts tensors to floats before
``log_metrics(metrics, step)`` (one host transfer per logging step), adds ``epoch``, calls ``log_hyperparams`` at fit
start, ``save()`` now and then, and ``finalize(status)`` at the end.

Examples:
    >>> class PrintLogger(Logger):
    ...     @property
    ...     def name(self): return "print"
    ...     @property
    ...     def version(self): return 0
    ...     def log_metrics(self, metrics, step): print(step, metrics)
    ...     def log_hyperparams(self, params): pass
    >>> PrintLogger().log_metrics({"loss": 0.5}, step=3)
    3 {'loss': 0.5}
"""

from __future__ import annotations

import functools
import os
import sys
from argparse import Namespace
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

__all__ = [
    "VersionedLogger",
    "Logger",
    "LightningLoggerBase",
    "DummyLogger",
    "DummyExperiment",
    "LoggerCollection",
    "rank_zero_only",
    "rank_zero_experiment",
    "next_version",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _rank_from_env() -> int:
    # Launchers set one of these before the strategy exists; the strategy overwrites rank_zero_only.rank later.
    for key in ("RANK", "LOCAL_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK"):
        value = os.environ.get(key)
        if value is not None and value.lstrip("-").isdigit():
            return int(value)
    return 0


def _current_rank() -> int:
    rank = rank_zero_only.rank  # type: ignore[attr-defined]
    if rank != 0:
        return rank
    # Spawned workers may not have RANK in their environment; an initialised process group knows the truth.
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        return int(dist.get_rank())
    return 0


def rank_zero_only(fn: _F) -> _F:
    """Run ``fn`` only in the process whose global rank is 0; elsewhere the call returns None.

    The rank is ``rank_zero_only.rank``, read from the launcher's environment at import and set by the strategy
    when it knows the real rank; while it is 0, an initialised ``torch.distributed`` process group is asked too.

    Args:
        fn: The function or method to guard.

    Returns:
        The guarded function.
    """

    @functools.wraps(fn)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if _current_rank() == 0:
            return fn(*args, **kwargs)
        return None

    return guarded  # type: ignore[return-value]


rank_zero_only.rank = _rank_from_env()  # type: ignore[attr-defined]


def rank_zero_experiment(fn: _F) -> _F:
    """For a logger's ``experiment`` property: the real object on rank 0, a :class:`DummyExperiment` elsewhere."""

    @functools.wraps(fn)
    def experiment(self: Any) -> Any:
        return fn(self) if _current_rank() == 0 else DummyExperiment()

    return experiment  # type: ignore[return-value]


def next_version(root_dir: str) -> int:
    """1 + the largest ``version_N`` folder in ``root_dir``; 0 if there is none or the folder is missing."""
    try:
        names = os.listdir(root_dir)
    except OSError:
        return 0
    versions = []
    for name in names:
        suffix = name[len("version_"):]
        if name.startswith("version_") and suffix.isdigit() and os.path.isdir(os.path.join(root_dir, name)):
            versions.append(int(suffix))
    return max(versions) + 1 if versions else 0


def params_to_dict(params: Mapping[str, Any] | Namespace | None) -> dict[str, Any]:
    """Hyper-parameters as a plain dict (accepts a dict, an ``argparse.Namespace`` or None)."""
    if params is None:
        return {}
    if isinstance(params, Namespace):
        return dict(vars(params))
    return dict(params)


class Logger:
    """Base class of all loggers (Lightning 1.x ``LightningLoggerBase``).

    Subclasses implement :attr:`name`, :attr:`version`, :meth:`log_metrics` and :meth:`log_hyperparams`; the other
    members have sensible defaults.
    """

    group_separator = "/"

    @property
    def name(self) -> str:
        """The experiment name (the folder under ``save_dir``)."""
        raise NotImplementedError

    @property
    def version(self) -> int | str:
        """The experiment version (``version_N`` folder, or a string used verbatim)."""
        raise NotImplementedError

    @property
    def save_dir(self) -> str | None:
        """Root folder of the logs, or None for loggers that write no files."""
        return None

    @property
    def root_dir(self) -> str | None:
        """``save_dir/name`` (or ``save_dir`` when the name is empty)."""
        if self.save_dir is None:
            return None
        return os.path.join(self.save_dir, self.name) if self.name else self.save_dir

    @property
    def log_dir(self) -> str | None:
        """The version folder this logger writes into, or None for loggers that write no files."""
        if self.root_dir is None:
            return None
        version = self.version
        folder = version if isinstance(version, str) else f"version_{version}"
        return os.path.join(self.root_dir, folder)

    @property
    def experiment(self) -> Any:
        """The underlying writer object (for example a ``SummaryWriter``)."""
        return None

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """Record one row of metrics at ``step`` (0-based index of the optimizer step that produced them)."""
        raise NotImplementedError

    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        """Record the run's hyper-parameters."""
        raise NotImplementedError

    def agg_and_log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        """1.x entry point kept for custom loggers and callers that use it: the same as :meth:`log_metrics`."""
        self.log_metrics(metrics, step)

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Record the model graph, where the backend supports it (default: nothing)."""

    def save(self) -> None:
        """Write buffered data to disk (default: nothing)."""

    def finalize(self, status: str) -> None:
        """Called once at the end of a run with ``"success"``, ``"failed"`` or ``"interrupted"``; saves by default."""
        self.save()

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        """Called after ModelCheckpoint wrote a file (default: nothing)."""

    def _add_prefix(self, metrics: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        if not prefix:
            return dict(metrics)
        return {f"{prefix}-{key}": value for key, value in metrics.items()}

    def __getitem__(self, index: int) -> Logger:
        # 1.x code indexes trainer.logger as if it were a collection (logger[0]).
        if index != 0:
            raise IndexError(f"{type(self).__name__} is a single logger; only index 0 exists, got {index}.")
        return self


# Lightning 1.x spelling, kept so user code subclassing it keeps working.
LightningLoggerBase = Logger


class VersionedLogger(Logger):
    """A logger that writes into ``{save_dir}/{name}/version_{N}`` (or a named version folder).

    The folder rules the CSV and TensorBoard loggers share: subclasses set ``_save_dir``, ``_name`` and
    ``_version`` in ``__init__``.
    """

    _save_dir: str
    _name: str
    _version: int | str | None

    @property
    def name(self) -> str:
        return self._name

    @property
    def save_dir(self) -> str:
        return self._save_dir

    @property
    def version(self) -> int | str:
        # Decided on first use, not at construction, so several loggers built up front don't take the same number.
        if self._version is None:
            self._version = next_version(self.root_dir)
        return self._version

    @property
    def root_dir(self) -> str:
        return os.path.join(self._save_dir, self._name) if self._name else self._save_dir

    @property
    def version_dir(self) -> str:
        version = self.version
        return os.path.join(self.root_dir, version if isinstance(version, str) else f"version_{version}")


class DummyExperiment:
    """Swallows every call (what a non-zero rank or the dummy logger exposes as ``experiment``)."""

    def nop(self, *args: Any, **kwargs: Any) -> None:
        """Do nothing."""

    def __getattr__(self, _name: str) -> Callable[..., None]:
        return self.nop

    def __getitem__(self, _index: Any) -> DummyExperiment:
        return self


class DummyLogger(Logger):
    """A logger that writes nothing (used by ``fast_dev_run`` and the tuners)."""

    def __init__(self) -> None:
        self._experiment = DummyExperiment()

    @property
    def name(self) -> str:
        return ""

    @property
    def version(self) -> str:
        return ""

    @property
    def experiment(self) -> DummyExperiment:
        return self._experiment

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        pass

    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        pass

    def __getitem__(self, index: int) -> DummyLogger:
        return self


class LoggerCollection(Logger):
    """Several loggers behind one: every call goes to each of them (1.x ``trainer.logger`` with a list).

    Args:
        loggers: The loggers, in order; the first decides ``save_dir``.
    """

    def __init__(self, loggers: Iterable[Logger]) -> None:
        self._loggers = list(loggers)

    def __getitem__(self, index: int) -> Logger:  # type: ignore[override]
        return self._loggers[index]

    def __iter__(self) -> Any:
        return iter(self._loggers)

    def __len__(self) -> int:
        return len(self._loggers)

    @property
    def name(self) -> str:
        return "_".join(dict.fromkeys(str(logger.name) for logger in self._loggers))

    @property
    def version(self) -> str:
        return "_".join(dict.fromkeys(str(logger.version) for logger in self._loggers))

    @property
    def save_dir(self) -> str | None:
        return self._loggers[0].save_dir if self._loggers else None

    @property
    def log_dir(self) -> str | None:
        return self._loggers[0].log_dir if self._loggers else None

    @property
    def experiment(self) -> list[Any]:
        return [logger.experiment for logger in self._loggers]

    def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
        for logger in self._loggers:
            logger.log_metrics(metrics, step)

    def log_hyperparams(self, params: Mapping[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
        for logger in self._loggers:
            logger.log_hyperparams(params, *args, **kwargs)

    def log_graph(self, model: Any, input_array: Any = None) -> None:
        for logger in self._loggers:
            logger.log_graph(model, input_array)

    def save(self) -> None:
        for logger in self._loggers:
            logger.save()

    def finalize(self, status: str) -> None:
        for logger in self._loggers:
            logger.finalize(status)

    def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
        for logger in self._loggers:
            logger.after_save_checkpoint(checkpoint_callback)
