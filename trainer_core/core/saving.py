"""1.x import path of the ``hparams.yaml`` helpers (``from pytorch_lightning.core.saving import ...``)."""

from trainer_core.loggers.hparams_io import load_hparams_from_yaml, save_hparams_to_yaml

__all__ = ["load_hparams_from_yaml", "save_hparams_to_yaml"]
