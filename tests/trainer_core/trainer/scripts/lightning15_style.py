"""A training script written the way Lightning 1.5 scripts are, with only the imports naming trainer_core.

It leans on 1.5 loop behaviour: batch hooks without ``dataloader_idx``, a datamodule passed positionally to ``fit``,
``test()`` after ``fit`` picking the best checkpoint, ``predict()`` returning its outputs by default and a
step-interval scheduler next to ``training_epoch_end``.
"""

import os
import sys

import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from trainer_core.callbacks import ModelCheckpoint


class Regression(pl.LightningDataModule):
    def __init__(self, samples: int = 96) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(3)
        self.inputs = torch.randn(samples, 8, generator=generator)
        self.targets = self.inputs @ torch.linspace(-1, 1, 8).unsqueeze(1)

    def train_dataloader(self):
        return DataLoader(TensorDataset(self.inputs, self.targets), batch_size=16, shuffle=True)

    def val_dataloader(self):
        return DataLoader(TensorDataset(self.inputs[:32], self.targets[:32]), batch_size=16)

    def test_dataloader(self):
        return self.val_dataloader()

    def predict_dataloader(self):
        return DataLoader(self.inputs[:32], batch_size=16)


class LinearModel(pl.LightningModule):
    def __init__(self, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Linear(8, 1)
        self.batches_seen = 0
        self.epoch_losses = []

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):  # 1.5 style: no dataloader_idx
        self.batches_seen += 1

    def training_epoch_end(self, outputs):
        self.epoch_losses.append(torch.stack([o["loss"] for o in outputs]).mean().item())

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(x), y), prog_bar=True)

    def test_step(self, batch, batch_idx):
        x, y = batch
        self.log("test_loss", torch.nn.functional.mse_loss(self(x), y))

    def predict_step(self, batch, batch_idx, dataloader_idx=None):
        return self(batch)

    def configure_optimizers(self):
        optimizer = torch.optim.SGD(self.parameters(), lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.5)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


def main(root: str) -> None:
    pl.seed_everything(0)
    model, dm = LinearModel(), Regression()
    checkpoint = ModelCheckpoint(monitor="val_loss", mode="min")
    trainer = pl.Trainer(default_root_dir=root, max_epochs=4, callbacks=[checkpoint], enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(model, dm)
    results = trainer.test(verbose=False)  # 1.5: the best checkpoint of this fit
    predictions = trainer.predict(model, dm)
    assert model.batches_seen == 4 * 6, model.batches_seen
    assert len(model.epoch_losses) == 4 and model.epoch_losses[-1] < model.epoch_losses[0], model.epoch_losses
    assert checkpoint.best_model_path and results[0]["test_loss"] >= 0, results
    assert predictions is not None and len(predictions) == 2 and predictions[0].shape == (16, 1)
    assert trainer.optimizers[0].param_groups[0]["lr"] == 0.05 * 0.5 ** 2  # 24 steps: halved at 10 and 20
    print("ok", results[0]["test_loss"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())
