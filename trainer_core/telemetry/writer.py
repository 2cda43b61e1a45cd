"""RecordingWriter: ``logger.experiment`` of the TensorBoard logger, a ``SummaryWriter`` that also records the run.

Each ``add_*`` call goes to the TensorBoard event file as usual and also to the run's own record, so the studio
shows it live and when the run folder is reopened:

- ``add_image`` / ``add_images`` / ``add_figure``: a PNG at ``<run>/media/<tag>/<step>.png`` plus an ``image``
  event. The PNG is encoded once, on a background thread, and the same bytes go into the TensorBoard file.
- ``add_histogram``: statistics and uniform bin counts computed on the values' device; a ``histogram`` event.
- ``add_text``: a ``text`` event. ``add_scalar`` / ``add_scalars``: a ``metrics`` event.
- Anything else (``add_hparams``, ``add_graph``, ``add_embedding``, ...) goes to TensorBoard only.

Listeners (the run's :class:`~trainer_core.telemetry.EventRecorder`) attach with :meth:`RecordingWriter.attach`;
with none attached the writer only writes TensorBoard and the PNG files.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from trainer_core.telemetry import events as ev
from trainer_core.telemetry import media

__all__ = ["RecordingWriter", "MediaListener"]

MediaListener = Callable[..., Any]
"""Called as ``listener(event_type, **fields)`` (``EventRecorder.emit`` has this shape)."""


class RecordingWriter:
    """Wraps a ``torch.utils.tensorboard.SummaryWriter``; unknown attributes are the writer's own.

    Args:
        writer: the TensorBoard writer every call also goes to.
        run_dir: the run folder; media files go under ``run_dir/media``.
    """

    def __init__(self, writer: Any, *, run_dir: str) -> None:
        self.writer = writer
        self.run_dir = run_dir
        self._listeners: list[MediaListener] = []
        self._step_source: Callable[[], int] | None = None
        self._worker = media.MediaWorker()
        self._lock = threading.Lock()

    # --- listeners -----------------------------------------------------------------------------------------
    def attach(self, listener: MediaListener, step_source: Callable[[], int] | None = None) -> None:
        """Send every recorded call to ``listener``; ``step_source`` gives the step when a call passes none."""
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)
            if step_source is not None:
                self._step_source = step_source

    def detach(self, listener: MediaListener) -> None:
        """Stop sending to ``listener`` (after finishing what is queued)."""
        self._worker.flush()
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _emit(self, event_type: str, **fields: Any) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event_type, **fields)

    def _step(self, global_step: Any) -> int:
        if global_step is not None:
            return int(global_step)
        return int(self._step_source()) if self._step_source is not None else 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.writer, name)

    # --- scalars and text ----------------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None,
                   **kwargs: Any) -> None:
        """TensorBoard scalar plus a ``metrics`` event with ``{tag: value}``."""
        self.writer.add_scalar(tag, scalar_value, global_step, walltime, **kwargs)
        value = ev.to_float(scalar_value)
        if value is not None:
            self._emit(ev.METRICS, step=self._step(global_step), epoch=None, metrics={tag: value})

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """TensorBoard scalars plus one ``metrics`` event with ``{main_tag/key: value}``."""
        self.writer.add_scalars(main_tag, tag_scalar_dict, global_step, walltime)
        values = {f"{main_tag}/{key}": ev.to_float(value) for key, value in tag_scalar_dict.items()}
        numbers = {key: value for key, value in values.items() if value is not None}
        if numbers:
            self._emit(ev.METRICS, step=self._step(global_step), epoch=None, metrics=numbers)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """TensorBoard text plus a ``text`` event."""
        self.writer.add_text(tag, text_string, global_step, walltime)
        self._emit(ev.TEXT, tag=tag, step=self._step(global_step), text=str(text_string))

    # --- images --------------------------------------------------------------------------------------------
    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """One image (``CHW`` by default; floats in 0..1) to TensorBoard and ``media/<tag>/<step>.png``."""
        self._image(tag, img_tensor, dataformats, global_step, walltime, "image")

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images as one grid (up to 8 columns), like ``SummaryWriter.add_images``."""
        self._image(tag, img_tensor, dataformats, global_step, walltime, "images")

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of them, as a grid), rendered here and encoded in the background."""
        figures = figure if isinstance(figure, (list, tuple)) else [figure]
        pixels = [media.figure_to_array(item, close=close) for item in figures]
        if len(pixels) == 1:
            self._image(tag, pixels[0], "HWC", global_step, walltime, "figure")
        else:
            height = max(p.shape[0] for p in pixels)
            width = max(p.shape[1] for p in pixels)
            batch = np.zeros((len(pixels), height, width, 4), np.uint8)
            for i, p in enumerate(pixels):
                batch[i, : p.shape[0], : p.shape[1]] = p
            self._image(tag, batch, "NHWC", global_step, walltime, "figure")

    def _image(self, tag: str, image: Any, dataformats: str, global_step: Any, walltime: float | None,
               source: str) -> None:
        step = self._step(global_step)
        wall = time.time() if walltime is None else walltime
        # A device copy keeps the picture as it is now if training changes the tensor in place; the host copy
        # and the encode happen on the worker, so the training thread does not wait for the device.
        pixels = image.detach().clone() if isinstance(image, torch.Tensor) else np.array(image, copy=True)
        path = media.media_path(self.run_dir, tag, step)

        def job() -> None:
            array = media.to_hwc_uint8(pixels, dataformats)
            png = media.encode_png(array)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            partial = path + ".part"
            with open(partial, "wb") as handle:
                handle.write(png)
            os.replace(partial, path)
            self._write_image_summary(tag, png, array.shape, step, wall)
            # An absolute path: each listener makes it relative to its own run folder (the events file's).
            self._emit(ev.IMAGE, tag=tag, step=step, path=path, width=int(array.shape[1]), height=int(array.shape[0]),
                       source=source)

        self._worker.submit(job)

    def _write_image_summary(self, tag: str, png: bytes, shape: tuple[int, ...], step: int, wall: float) -> None:
        from tensorboard.compat.proto.summary_pb2 import Summary

        image = Summary.Image(height=int(shape[0]), width=int(shape[1]), colorspace=int(shape[2]),
                              encoded_image_string=png)
        self.writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, image=image)]), step, wall)

    # --- histograms ----------------------------------------------------------------------------------------
    def add_histogram(self, tag: str, values: Any, global_step: int | None = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """Uniform bins computed on the values' device; TensorBoard's HistogramProto and a ``histogram`` event."""
        step = self._step(global_step)
        wall = time.time() if walltime is None else walltime
        count = media.bin_count(bins, max_bins)
        stats = media.device_histogram(values, count)

        def job() -> None:
            fields = media.histogram_fields(stats)
            self._write_histogram_summary(tag, fields, step, wall)
            self._emit(ev.HISTOGRAM, tag=tag, step=step, **fields)

        self._worker.submit(job)

    def _write_histogram_summary(self, tag: str, fields: dict[str, Any], step: int, wall: float) -> None:
        from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary

        counts = fields["counts"]
        low, high = fields["min"], fields["max"]
        width = (high - low) / len(counts)
        limits = [low + width * (i + 1) for i in range(len(counts))]
        proto = HistogramProto(min=low, max=high, num=fields["num"], sum=fields["sum"],
                               sum_squares=fields["sum_squares"], bucket_limit=limits, bucket=counts)
        self.writer._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, histo=proto)]), step, wall)

    # --- lifetime ------------------------------------------------------------------------------------------
    def wait(self) -> None:
        """Block until every queued image and histogram is on disk and reported."""
        self._worker.flush()

    def flush(self) -> None:
        """Finish queued media, then flush the TensorBoard file."""
        self._worker.flush()
        self.writer.flush()

    def close(self) -> None:
        """Finish queued media, then close the TensorBoard file."""
        self._worker.flush()
        self.writer.close()
