"""With ``num_sanity_val_steps=0`` (the real computer_vision_fine_tuning example sets it), 1.5 still loads the val
loaders together with the train loader before training, so ``trainer.num_val_batches`` is known in the first
epoch and the progress bar's total counts the validation batches. Here they load only at the first validation:
the first epoch saw ``num_val_batches == []`` and the bar's total (train only) was overrun ("Epoch 0: : 3it").
"""

from __future__ import annotations

import trainer_core as pl
from tests.helpers.boring_model import BoringModel, quiet_trainer


class _ValBatchesSeen(pl.Callback):
    def __init__(self) -> None:
        self.seen: list[list[int]] = []

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.seen.append(list(trainer.num_val_batches))


def test_with_sanity_check_val_batches_are_known_from_the_first_epoch() -> None:
    probe = _ValBatchesSeen()
    quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=2, callbacks=[probe]).fit(BoringModel())
    assert probe.seen == [[2], [2]]


def test_without_sanity_check_val_batches_are_known_from_the_first_epoch() -> None:
    probe = _ValBatchesSeen()
    trainer = quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=2, num_sanity_val_steps=0,
                            callbacks=[probe])
    trainer.fit(BoringModel())
    assert probe.seen == [[2], [2]]
