"""1.x module path ``pytorch_lightning.core.datamodule``."""

from trainer_core.datamodule import LightningDataModule

__all__ = ["LightningDataModule"]
