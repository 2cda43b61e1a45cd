"""1.x import path of ``AttributeDict`` (``from pytorch_lightning.utilities.parsing import AttributeDict``)."""

from trainer_core.hparams import AttributeDict

__all__ = ["AttributeDict"]
