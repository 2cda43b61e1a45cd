"""A real 1.x recommender (matrix factorisation) calls ``trainer.fit(model, train_dl, val_dl)`` but never defines
``validation_step``: 1.5 warns "You passed in a `val_dataloader` but have no `validation_step`. Skipping val loop."
The engine skipped validation without a word. 1.5 also warns about the reverse pairing (a ``validation_step`` and no
validation data); fits where both or neither are present stay quiet."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import trainer_core as pl
from tests.helpers.boring_model import quiet_trainer


class _Ratings(pl.LightningModule):
    """User/item embeddings scoring a rating, trained in the 1.x style with loaders given to fit."""

    def __init__(self) -> None:
        super().__init__()
        self.users = torch.nn.Embedding(6, 3)
        self.items = torch.nn.Embedding(5, 3)

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return (self.users(users) * self.items(items)).sum(dim=1)

    def training_step(self, batch, batch_idx):
        users, items, rating = batch
        loss = torch.nn.functional.mse_loss(self(users, items), rating)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class _RatingsWithValidation(_Ratings):
    def validation_step(self, batch, batch_idx):
        users, items, rating = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self(users, items), rating))


def _loader() -> DataLoader:
    g = torch.Generator().manual_seed(0)
    users, items = torch.randint(0, 6, (8,), generator=g), torch.randint(0, 5, (8,), generator=g)
    return DataLoader(TensorDataset(users, items, torch.rand(8, generator=g) * 5), batch_size=4)


def _pairing_warnings(record: pytest.WarningsRecorder) -> list[str]:
    return [str(w.message) for w in record if "Skipping val loop" in str(w.message)]


def test_val_loader_without_validation_step_warns_and_trains() -> None:
    trainer = quiet_trainer(max_epochs=1)
    with pytest.warns(UserWarning, match=r"passed in a `val_dataloader` but have no `validation_step`"):
        trainer.fit(_Ratings(), _loader(), _loader())
    assert trainer.global_step == 2
    assert "val_loss" not in trainer.callback_metrics


def test_validation_step_without_val_loader_warns() -> None:
    trainer = quiet_trainer(max_epochs=1)
    with pytest.warns(UserWarning, match=r"defined a `validation_step` but have no `val_dataloader`"):
        trainer.fit(_RatingsWithValidation(), _loader())
    assert trainer.global_step == 2


@pytest.mark.parametrize(("model_cls", "with_val"), [(_RatingsWithValidation, True), (_Ratings, False)])
def test_paired_or_absent_validation_is_quiet(recwarn: pytest.WarningsRecorder, model_cls: type,
                                              with_val: bool) -> None:
    trainer = quiet_trainer(max_epochs=1)
    trainer.fit(model_cls(), _loader(), _loader() if with_val else None)
    assert not _pairing_warnings(recwarn)
    assert ("val_loss" in trainer.callback_metrics) is with_val
