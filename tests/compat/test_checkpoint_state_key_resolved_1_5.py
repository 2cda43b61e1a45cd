"""ModelCheckpoint's state key carries the resolved ``save_on_train_epoch_end`` after setup, as 1.5 writes it.

A checkpoint written by 1.5 (or now by us) stores the callback's state under ``...'save_on_train_epoch_end': True}``
(or False); a fresh ``ModelCheckpoint()`` resuming from it must find that state. Checkpoints written by earlier
versions of this package (the key with ``None``) still resume.
"""

from __future__ import annotations

import torch

import trainer_core as pl
from trainer_core.callbacks import ModelCheckpoint


class _Model(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        loss = self.layer(batch[0]).sum()
        self.log("loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(4, 2)), batch_size=2)


def _key(value) -> str:
    return ("ModelCheckpoint{'monitor': 'loss', 'mode': 'min', 'every_n_train_steps': 0, 'every_n_epochs': 1, "
            f"'train_time_interval': None, 'save_on_train_epoch_end': {value}}}")


def _fit(tmp_path, max_epochs, ckpt_path=None):
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor="loss")
    assert ckpt.state_key == _key(None)  # before setup, as in 1.5
    trainer = pl.Trainer(default_root_dir=tmp_path, max_epochs=max_epochs, logger=False, callbacks=[ckpt],
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(_Model(), ckpt_path=ckpt_path)
    return ckpt


def test_checkpoint_stores_the_resolved_key_and_a_fresh_callback_resumes_from_it(tmp_path):
    first = _fit(tmp_path, 1)
    saved = torch.load(first.best_model_path, weights_only=True)
    assert list(saved["callbacks"]) == [_key(True)]
    # max_epochs=1 again: nothing left to train, so the paths below can only come from the restored state
    resumed = _fit(tmp_path, 1, ckpt_path=first.best_model_path)
    assert resumed.state_key == _key(True)
    assert resumed.best_model_path == first.best_model_path


def test_checkpoint_with_the_earlier_key_still_resumes(tmp_path, recwarn):
    first = _fit(tmp_path, 1)
    saved = torch.load(first.best_model_path, weights_only=True)
    saved["callbacks"] = {_key(None): saved["callbacks"][_key(True)]}
    old = tmp_path / "old.ckpt"
    torch.save(saved, old)
    resumed = _fit(tmp_path, 1, ckpt_path=str(old))
    assert resumed.best_model_path == first.best_model_path
    assert not [w for w in recwarn if "does not have" in str(w.message)]
