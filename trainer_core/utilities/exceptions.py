"""1.x import path of the configuration error (``from pytorch_lightning.utilities.exceptions import ...``)."""

from trainer_core.exceptions import MisconfigurationError, MisconfigurationException

__all__ = ["MisconfigurationError", "MisconfigurationException"]
