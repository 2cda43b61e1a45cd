"""Moving batches to the device through the batch-transfer hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trainer_core.utilities.apply import infer_batch_size

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["batch_size_of", "dm_overrides", "transfer_batch"]


def transfer_batch(trainer: Trainer, batch: Any, dataloader_idx: int) -> Any:
    """on_before_batch_transfer -> transfer_batch_to_device -> on_after_batch_transfer (datamodule hooks win)."""
    dm, hooks = trainer.datamodule, trainer._hooks
    device = trainer.strategy.root_device

    def call(hook: str, *args: Any) -> Any:
        if dm is not None and dm_overrides(dm, hook):
            return hooks.datamodule(hook, *args)
        return hooks.module(hook, *args)

    batch = call("on_before_batch_transfer", batch, dataloader_idx)
    batch = call("transfer_batch_to_device", batch, device, dataloader_idx)
    batch = call("on_after_batch_transfer", batch, dataloader_idx)
    return trainer.precision_plugin.convert_input(batch)


def dm_overrides(dm: Any, hook: str) -> bool:
    """Whether the DataModule's class overrides ``hook`` of LightningDataModule."""
    from trainer_core.datamodule import LightningDataModule

    return getattr(type(dm), hook, None) is not getattr(LightningDataModule, hook, None)


def batch_size_of(trainer: Trainer) -> int:
    """The current batch's size, inferred once per batch and only when an epoch-level mean needs it."""
    size = trainer._current_batch_bs
    if size is None:
        size = infer_batch_size(trainer._current_batch)
        trainer._current_batch_bs = size
    return size
