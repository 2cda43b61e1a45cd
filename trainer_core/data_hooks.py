"""The batch-transfer hooks that LightningModule and LightningDataModule share (1.x ``DataHooks``).

Both classes inherit these defaults, so the loop can tell an override on either (the datamodule's wins) by comparing
with one base implementation.
"""

from __future__ import annotations

from typing import Any

from trainer_core.utilities.apply import move_to_device

__all__ = ["BatchTransferHooks"]


class BatchTransferHooks:
    """``on_before_batch_transfer`` -> ``transfer_batch_to_device`` -> ``on_after_batch_transfer``, as no-op defaults.

    Override them to change a batch on the host, to move a custom batch type, or to change it on the device.
    """

    def transfer_batch_to_device(self, batch: Any, device: Any, dataloader_idx: int = 0) -> Any:
        """``batch`` (tensors inside lists, tuples, dicts and dataclasses) moved to ``device``."""
        return move_to_device(batch, device)

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int = 0) -> Any:
        """The batch before it is moved to the device (unchanged by default)."""
        return batch

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int = 0) -> Any:
        """The batch once it is on the device (unchanged by default)."""
        return batch
