"""trainer_core: a training engine with the API and behaviour of PyTorch Lightning 1.x.

Use it as a drop-in for Lightning 1.x scripts::

    import trainer_core as pl

    trainer = pl.Trainer(max_epochs=3)
    trainer.fit(model)
"""

__version__ = "0.1.0"

from trainer_core.callback import Callback
from trainer_core.datamodule import LightningDataModule
from trainer_core.exceptions import MisconfigurationError, MisconfigurationException
from trainer_core.module import LightningModule
from trainer_core.seed import seed_everything
from trainer_core.trainer import Trainer

__all__ = [
    "Callback",
    "LightningDataModule",
    "LightningModule",
    "MisconfigurationError",
    "MisconfigurationException",
    "Trainer",
    "__version__",
    "seed_everything",
]
