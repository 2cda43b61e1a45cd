"""CSVLogger: ``metrics.csv`` and ``hparams.yaml`` in Lightning's ``save_dir/name/version_N`` layout.

Examples:
    >>> import tempfile
    >>> logger = CSVLogger(tempfile.mkdtemp(), name="demo")
    >>> logger.log_metrics({"train_loss": 0.25, "epoch": 0}, step=0)
    >>> logger.save()
    >>> open(logger.experiment.metrics_file_path).read().splitlines()[0]
    'train_loss,epoch,step'
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

from trainer_core.loggers.base import VersionedLogger, params_to_dict, rank_zero_only
from trainer_core.loggers.hparams_io import atomic_write_text, save_hparams_to_yaml

__all__ = ["CSVLogger", "ExperimentWriter"]


def _to_number(value: Any) -> Any:
    """Plain Python scalar for a CSV cell (the trainer already sends floats; user calls may send tensors)."""
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    return value


class ExperimentWriter:
    """Holds the unsaved rows and the hyper-parameters of one version folder and writes them out on :meth:`save`.

    Memory stays bounded in long runs: rows written to disk are dropped. While the set of columns is unchanged a
    save appends the new rows in one write; when a new column appears, the file is rewritten with the wider header
    through a temporary file and an atomic rename, so a reader never sees a half-written file.

    Args:
        log_dir: The version folder; created on construction.
    """

    NAME_HPARAMS_FILE = "hparams.yaml"
    NAME_METRICS_FILE = "metrics.csv"

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self.metrics_file_path = os.path.join(log_dir, self.NAME_METRICS_FILE)
        self.hparams_file_path = os.path.join(log_dir, self.NAME_HPARAMS_FILE)
        if os.path.isfile(self.metrics_file_path):
            warnings.warn(
                f"The logging folder {log_dir} already holds a metrics.csv; it will be overwritten. Pass a new "
                "`version` (or leave it None for the next free version_N) to keep the old run.",
                UserWarning,
                stacklevel=4,
            )
        os.makedirs(log_dir, exist_ok=True)
        self.hparams: dict[str, Any] = {}
        self.metrics: list[dict[str, Any]] = []  # rows not yet on disk
        self._rows_logged = 0
        # Header = every key ever logged, in first-seen order (a dict keeps insertion order, unlike a set).
        self._columns: dict[str, None] = {}
        self._written_columns: list[str] | None = None  # header of the file on disk (None: not written yet)

    def log_hparams(self, params: Mapping[str, Any]) -> None:
        """Merge ``params`` into the hyper-parameters written to ``hparams.yaml``."""
        self.hparams.update(params)

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Add one row; ``step`` defaults to the row index."""
        row = {key: _to_number(value) for key, value in metrics.items()}
        row["step"] = self._rows_logged if step is None else int(step)
        self._rows_logged += 1
        self.metrics.append(row)
        self._columns.update(dict.fromkeys(row))

    def save(self) -> None:
        """Write ``hparams.yaml`` (atomically) and the pending rows of ``metrics.csv``."""
        save_hparams_to_yaml(self.hparams_file_path, self.hparams)
        if not self.metrics:
            return
        columns = list(self._columns)
        if columns == self._written_columns and os.path.isfile(self.metrics_file_path):
            buffer = io.StringIO()
            csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n").writerows(self.metrics)
            with open(self.metrics_file_path, "a", encoding="utf-8", newline="") as handle:
                handle.write(buffer.getvalue())
        else:
            self._rewrite(columns)
        self._written_columns = columns
        self.metrics = []

    def _rewrite(self, columns: list[str]) -> None:
        old_rows: list[dict[str, Any]] = []
        if self._written_columns is not None and os.path.isfile(self.metrics_file_path):
            with open(self.metrics_file_path, encoding="utf-8", newline="") as handle:
                old_rows = list(csv.DictReader(handle))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(old_rows)
        writer.writerows(self.metrics)
        atomic_write_text(self.metrics_file_path, buffer.getvalue())


class CSVLogger(VersionedLogger):
    """Log metrics to ``metrics.csv`` and hyper-parameters to ``hparams.yaml`` (Lightning's layout).

    Files go to ``save_dir/name/version_N``: ``N`` is one more than the largest existing ``version_*`` folder (0 for
    the first run); an int ``version`` picks ``version_{version}``; a string ``version`` is the folder name;
    ``name=""`` or None puts the version folder directly in ``save_dir``. The CSV gets one row per
    :meth:`log_metrics` call plus a ``step`` column; its header is the union of all keys in first-seen order.

    Args:
        save_dir: Root folder of the logs.
        name: Experiment folder under ``save_dir``.
        version: None (next free), an int, or a folder name.
        prefix: Prepended to every metric key as ``"{prefix}-{key}"``.
        flush_logs_every_n_steps: Write pending rows when ``(step + 1)`` is a multiple of this (and at the end).

    Examples:
        >>> import tempfile
        >>> CSVLogger(tempfile.mkdtemp()).version
        0
    """

    LOGGER_JOIN_CHAR = "-"

    def __init__(self, save_dir: str | os.PathLike[str], name: str | None = "lightning_logs",
                 version: int | str | None = None, prefix: str = "", flush_logs_every_n_steps: int = 100) -> None:
        if not isinstance(flush_logs_every_n_steps, int) or flush_logs_every_n_steps < 1:
            raise ValueError(
                f"CSVLogger(flush_logs_every_n_steps={flush_logs_every_n_steps!r}) must be an int >= 1."
            )
        if version is not None and not isinstance(version, (int, str)):
            raise ValueError(f"CSVLogger(version={version!r}) must be None, an int or a folder name string.")
        self._save_dir = os.fspath(save_dir)
        self._name = name or ""
        self._version = version
        self._prefix = prefix
        self._flush_every = flush_logs_every_n_steps
        self._experiment: ExperimentWriter | None = None
        self._flushed_through = 0  # steps covered by the last periodic write

    @property
    def log_dir(self) -> str:
        return self.version_dir

    @property
    def experiment(self) -> ExperimentWriter:
        """The writer for this version folder (the folder is created on first access)."""
        if self._experiment is None:
            self._experiment = ExperimentWriter(self.log_dir)
        return self._experiment

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace | None, *args: Any, **kwargs: Any) -> None:
        """Merge ``params`` into ``hparams.yaml`` and write it now, so even a crashed run keeps its settings."""
        self.experiment.log_hparams(params_to_dict(params))
        save_hparams_to_yaml(self.experiment.hparams_file_path, self.experiment.hparams)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Add a row; every ``flush_logs_every_n_steps`` steps the pending rows are written."""
        self.experiment.log_metrics(self._add_prefix(metrics, self._prefix), step)
        # "At least n steps since the last write" rather than "(step + 1) % n == 0": with log_every_n_steps=3 and
        # n=100 the logged steps (2, 5, 8, ...) never hit a multiple of 100 and nothing reached disk until the end.
        if step is not None and step + 1 - self._flushed_through >= self._flush_every:
            self.save()
            self._flushed_through = step + 1

    @rank_zero_only
    def save(self) -> None:
        """Write the pending rows of ``metrics.csv`` and ``hparams.yaml``."""
        self.experiment.save()

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Write the files a last time (whatever the status, so a failed run keeps its rows)."""
        self.save()
