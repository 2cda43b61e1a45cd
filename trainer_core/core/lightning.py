"""1.x module path ``pytorch_lightning.core.lightning``."""

from trainer_core.module import LightningModule

__all__ = ["LightningModule"]
