"""A real 1.x LSTM classifier returns ``{"optimizer": ..., "lr_scheduler": {...}, "gradient_clip_val": 1.0}`` from
``configure_optimizers``, expecting its gradients clipped. 1.5 warns about keys it does not know
("Found unsupported keys in the optimizer configuration"); the engine ignored them silently before, so the user never
learnt that nothing was clipped."""

from __future__ import annotations

import pytest
import torch

from tests.helpers.boring_model import BoringModel, quiet_trainer


class _ExtraKeyModel(BoringModel):
    def configure_optimizers(self) -> dict:
        optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler}, "gradient_clip_val": 1.0}


def test_unknown_optimizer_dict_keys_warn_and_training_goes_on() -> None:
    trainer = quiet_trainer(max_epochs=1, limit_train_batches=2, limit_val_batches=0)
    with pytest.warns(RuntimeWarning, match=r"unsupported keys.*gradient_clip_val"):
        trainer.fit(_ExtraKeyModel())
    assert trainer.global_step == 2
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.01)  # the scheduler still stepped


def test_known_keys_do_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    class _Known(BoringModel):
        def configure_optimizers(self) -> dict:
            optimizer = torch.optim.SGD(self.parameters(), lr=0.1)
            return {"optimizer": optimizer, "frequency": 1, "monitor": "train_loss"}

    quiet_trainer(max_epochs=1, limit_train_batches=1, limit_val_batches=0).fit(_Known())
    assert not [w for w in recwarn if "unsupported keys" in str(w.message)]
