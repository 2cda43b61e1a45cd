"""Lightning 1.x's ``pytorch_lightning.core`` package: ``from pytorch_lightning.core import LightningModule``,
``pytorch_lightning.core.lightning.LightningModule`` and ``pytorch_lightning.core.datamodule.LightningDataModule``
(the classes themselves live in :mod:`trainer_core.module` and :mod:`trainer_core.datamodule`)."""

from trainer_core.datamodule import LightningDataModule
from trainer_core.module import LightningModule

__all__ = ["LightningDataModule", "LightningModule"]
