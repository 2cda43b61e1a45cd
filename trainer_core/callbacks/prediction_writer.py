"""``BasePredictionWriter`` (1.x): write predictions to disk while ``trainer.predict`` runs."""

from __future__ import annotations

from typing import Any

from torch.utils.data import SequentialSampler

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["BasePredictionWriter"]

_INTERVALS = ("batch", "epoch", "batch_and_epoch")


class BasePredictionWriter(Callback):
    """Subclass and implement ``write_on_batch_end`` and/or ``write_on_epoch_end``.

    Args:
        write_interval: ``"batch"`` (after each predicted batch), ``"epoch"`` (once, with every prediction) or
            ``"batch_and_epoch"``.

    ``batch_indices`` are the dataset indices of the batch (per dataloader and batch at epoch end) when the predict
    loader reads its dataset in order (the default for prediction); with another sampler they are None.
    """

    def __init__(self, write_interval: str = "batch") -> None:
        if write_interval not in _INTERVALS:
            raise MisconfigurationError(
                f"BasePredictionWriter(write_interval={write_interval!r}): give one of {', '.join(_INTERVALS)}")
        self.interval = write_interval
        self._indices: list[list[list[int]] | None] = []

    @property
    def on_batch(self) -> bool:
        return self.interval in ("batch", "batch_and_epoch")

    @property
    def on_epoch(self) -> bool:
        return self.interval in ("epoch", "batch_and_epoch")

    def write_on_batch_end(self, trainer: Any, pl_module: Any, prediction: Any, batch_indices: list[int] | None,
                           batch: Any, batch_idx: int, dataloader_idx: int) -> None:
        """Write one batch's prediction (``write_interval`` "batch" or "batch_and_epoch")."""
        raise NotImplementedError

    def write_on_epoch_end(self, trainer: Any, pl_module: Any, predictions: list[Any],
                           batch_indices: list[Any] | None) -> None:
        """Write every prediction (``write_interval`` "epoch" or "batch_and_epoch"): one list per dataloader."""
        raise NotImplementedError

    def on_predict_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._indices = [_batch_indices(loader) for loader in (trainer.predict_dataloaders or [])]

    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None:
        if self.on_batch:
            self.write_on_batch_end(trainer, pl_module, outputs, self._indices_of(dataloader_idx, batch_idx), batch,
                                    batch_idx, dataloader_idx)

    def on_predict_epoch_end(self, trainer: Any, pl_module: Any, outputs: list[Any]) -> None:
        if self.on_epoch:
            known = self._indices if all(i is not None for i in self._indices) else None
            self.write_on_epoch_end(trainer, pl_module, outputs, known)

    def _indices_of(self, dataloader_idx: int, batch_idx: int) -> list[int] | None:
        if dataloader_idx >= len(self._indices) or self._indices[dataloader_idx] is None:
            return None
        batches = self._indices[dataloader_idx]
        return batches[batch_idx] if batch_idx < len(batches) else None


def _batch_indices(loader: Any) -> list[list[int]] | None:
    """The dataset indices of each batch, for a loader that reads its dataset in order (else None)."""
    batch_sampler = getattr(loader, "batch_sampler", None)
    if batch_sampler is None or not isinstance(getattr(batch_sampler, "sampler", None), SequentialSampler):
        return None
    return [list(batch) for batch in batch_sampler]
