"""TensorBoardLogger: TensorBoard event files plus ``hparams.yaml`` in ``save_dir/name/version_N``.

``tensorboard`` is a main dependency (``logger=True`` puts this logger first, as Lightning 1.x did); an install
without it gets a clear :class:`~trainer_core.exceptions.MisconfigurationError` from the constructor, before any
training. ``experiment`` is a :class:`~trainer_core.telemetry.writer.RecordingWriter`: the ``SummaryWriter`` API,
with images, figures, histograms and text also recorded in the run folder for the studio (docs/media.md).
"""

from __future__ import annotations

import importlib.util
import os
from argparse import Namespace
from collections.abc import Callable, Mapping
from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.loggers.base import VersionedLogger, params_to_dict, rank_zero_experiment, rank_zero_only
from trainer_core.loggers.hparams_io import save_hparams_to_yaml, to_plain

__all__ = ["TensorBoardLogger", "tensorboard_available"]

_INSTALL_HINT = (
    "TensorBoardLogger needs the optional `tensorboard` package, which is not installed. Install it with "
    "`pip install tensorboard` (or `pip install training-studio[tensorboard]`), or use CSVLogger instead."
)


def tensorboard_available() -> bool:
    """Whether the ``tensorboard`` package can be imported (checked without importing it)."""
    return importlib.util.find_spec("tensorboard") is not None


def _summary_writer_class() -> Any:
    if not tensorboard_available():
        raise MisconfigurationError(_INSTALL_HINT)
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:  # tensorboard present but unusable (for example too old for this torch)
        raise MisconfigurationError(f"{_INSTALL_HINT} (Importing it failed: {err}.)") from err
    return SummaryWriter


def _flatten(params: Mapping[str, Any], separator: str, parent: str = "") -> dict[str, Any]:
    """Nested dicts -> one level with ``a/b`` keys; TensorBoard's hparams plugin only takes flat scalars."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{parent}{separator}{key}" if parent else str(key)
        if isinstance(value, Mapping):
            flat.update(_flatten(value, separator, name))
        else:
            flat[name] = value
    return flat


class TensorBoardLogger(VersionedLogger):
    """Log to TensorBoard event files with ``torch.utils.tensorboard.SummaryWriter``.

    Args:
        save_dir: Root folder of the logs.
        name: Experiment folder under ``save_dir`` ("" or None: directly in ``save_dir``).
        version: None (next free ``version_N``), an int, or a folder name.
        log_graph: Add the model graph (from ``example_input_array``) when the trainer calls :meth:`log_graph`.
        default_hp_metric: Log a placeholder ``hp_metric`` of -1 with the hyper-parameters, so TensorBoard's
            HPARAMS tab shows the run.
        prefix: Prepended to every metric key as ``"{prefix}-{key}"``.
        sub_dir: Optional folder inside the version folder for the event files.
        **kwargs: Passed to ``SummaryWriter`` (for example ``flush_secs``).

    Raises:
        MisconfigurationError: If the ``tensorboard`` package is not installed.
    """

    NAME_HPARAMS_FILE = "hparams.yaml"
    LOGGER_JOIN_CHAR = "-"

    def __init__(self, save_dir: str | os.PathLike[str], name: str | None = "lightning_logs",
                 version: int | str | None = None, log_graph: bool = False, default_hp_metric: bool = True,
                 prefix: str = "", sub_dir: str | None = None, **kwargs: Any) -> None:
        if not tensorboard_available():
            raise MisconfigurationError(_INSTALL_HINT)
        self._save_dir = os.fspath(save_dir)
        self._name = name or ""
        self._version = version
        self._log_graph = log_graph
        self._default_hp_metric = default_hp_metric
        self._prefix = prefix
        self._sub_dir = sub_dir
        self._kwargs = kwargs
        self._experiment: Any = None
        self._media_listeners: list[tuple[Callable[..., Any], Callable[[], int] | None]] = []
        self.hparams: dict[str, Any] = {}

    @property
    def log_dir(self) -> str:
        folder = self.version_dir
        return os.path.join(folder, self._sub_dir) if self._sub_dir else folder

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        """The ``SummaryWriter`` API (created, with its folder, on first access), recording media for the studio.

        On ranks other than 0 it is a :class:`~trainer_core.loggers.base.DummyExperiment` that ignores every call,
        so each picture and histogram is written once.

        Images and figures land in ``<log_dir>/media/<tag>/<step>.png``; images, histograms and text are also
        reported to the listeners attached with :meth:`attach_media_listener` (the run's event recorder).
        """
        if self._experiment is None:
            from trainer_core.telemetry.writer import RecordingWriter

            os.makedirs(self.log_dir, exist_ok=True)
            writer = _summary_writer_class()(log_dir=self.log_dir, **self._kwargs)
            self._experiment = RecordingWriter(writer, run_dir=self.log_dir)
            for listener, step_source in self._media_listeners:
                self._experiment.attach(listener, step_source)
        return self._experiment

    def attach_media_listener(self, listener: Callable[..., Any], step_source: Callable[[], int] | None = None) -> None:
        """Report recorded images, histograms, text and direct scalars to ``listener(event_type, **fields)``.

        ``step_source`` gives the step for calls that pass no ``global_step`` (the trainer's global step). The
        writer is not created for this: a run that logs nothing writes no TensorBoard file.
        """
        # == (not "is"): a bound method such as recorder.emit is a new object on every access, equal to the last.
        if all(known != listener for known, _ in self._media_listeners):
            self._media_listeners.append((listener, step_source))
        if self._experiment is not None:
            self._experiment.attach(listener, step_source)

    def detach_media_listener(self, listener: Callable[..., Any]) -> None:
        """Stop reporting to ``listener`` once the media already queued has been written."""
        self._media_listeners = [(known, src) for known, src in self._media_listeners if known != listener]
        if self._experiment is not None:
            self._experiment.detach(listener)

    def wait_for_media(self) -> None:
        """Block until every queued image and histogram is written and reported."""
        if self._experiment is not None:
            self._experiment.wait()

    @rank_zero_only
    def log_hyperparams(self, params: Mapping[str, Any] | Namespace | None, metrics: Mapping[str, Any] | None = None,
                        *args: Any, **kwargs: Any) -> None:
        """Record hyper-parameters in ``hparams.yaml`` and TensorBoard's HPARAMS tab."""
        plain = to_plain(params_to_dict(params))
        self.hparams.update(plain)
        save_hparams_to_yaml(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE), self.hparams)
        if metrics is None and self._default_hp_metric:
            metrics = {"hp_metric": -1}
        if metrics:
            from torch.utils.tensorboard.summary import hparams as hparams_summary

            # The plugin accepts only int/float/str/bool values; everything else is shown as text.
            flat = {
                key: value if isinstance(value, (int, float, str, bool)) else str(value)
                for key, value in _flatten(plain, self.group_separator).items()
            }
            experiment, session_start, session_end = hparams_summary(flat, dict(metrics))
            writer = self.experiment._get_file_writer()
            for summary in (experiment, session_start, session_end):
                writer.add_summary(summary)
            self.log_metrics(dict(metrics), step=0)

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Add each metric as a scalar at ``step`` (a dict value becomes a group of scalars)."""
        for key, value in self._add_prefix(metrics, self._prefix).items():
            if isinstance(value, Mapping):
                self.experiment.writer.add_scalars(key, dict(value), step)
                continue
            item = getattr(value, "item", None)
            # The plain writer: these scalars reach the event stream through the trainer's own metrics events.
            self.experiment.writer.add_scalar(key, item() if callable(item) else value, step)

    @rank_zero_only
    def log_graph(self, model: Any, input_array: Any = None) -> None:
        """Add the model graph when ``log_graph=True`` and an example input is known."""
        if not self._log_graph:
            return
        example = input_array if input_array is not None else getattr(model, "example_input_array", None)
        if example is not None:
            self.experiment.add_graph(model, example)

    @rank_zero_only
    def save(self) -> None:
        """Flush the event file and rewrite ``hparams.yaml``."""
        self.experiment.flush()
        save_hparams_to_yaml(os.path.join(self.log_dir, self.NAME_HPARAMS_FILE), self.hparams)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Flush and close the event file."""
        self.save()
        self.experiment.close()
