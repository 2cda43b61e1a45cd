"""1.x import path of the callback base class (``from pytorch_lightning.callbacks.base import Callback``)."""

from trainer_core.callback import Callback

__all__ = ["Callback"]
