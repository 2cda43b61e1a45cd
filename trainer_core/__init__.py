"""trainer_core: a training engine with the API and behaviour of PyTorch Lightning 1.x.

Use it as a drop-in for Lightning 1.x scripts::

    import trainer_core as pl

    trainer = pl.Trainer(max_epochs=3)
    trainer.fit(model)
"""

__version__ = "0.1.0"

import logging as _logging

# 1.x scripts reach these through the package (`pl.callbacks.ModelCheckpoint`, `pl.loggers.TensorBoardLogger`,
# `pl.profiler.SimpleProfiler`, `pl.plugins.DDPPlugin`) without importing the submodule first.
from trainer_core import callbacks, loggers, plugins, profiler, profilers, tuner  # noqa: F401
from trainer_core.callback import Callback
from trainer_core.datamodule import LightningDataModule
from trainer_core.exceptions import MisconfigurationError, MisconfigurationException
from trainer_core.module import LightningModule
from trainer_core.seed import seed_everything
from trainer_core.trainer import Trainer


class _ConsoleFallback(_logging.StreamHandler):
    """Prints the engine's INFO lines (effective batch size, deferred stops, ...) when the application has not
    configured logging; once the root logger has handlers, the records reach them instead (no double lines)."""

    def emit(self, record: _logging.LogRecord) -> None:
        if not _logging.getLogger().handlers:
            super().emit(record)


def __getattr__(name: str) -> object:
    # `pl.metrics.Accuracy()` in a pre-1.5 script: say where the metrics went (an AttributeError, so hasattr()
    # probes still answer False).
    if name == "metrics":
        from trainer_core.utilities.removed import METRICS_REMOVED

        raise AttributeError(METRICS_REMOVED)
    raise AttributeError(f"module 'trainer_core' has no attribute {name!r}")


_log = _logging.getLogger(__name__)
_logger = _log  # 1.x: `from pytorch_lightning import _logger as log` in examples and user scripts
if not any(isinstance(h, _ConsoleFallback) for h in _log.handlers):
    _fallback = _ConsoleFallback()
    _fallback.setFormatter(_logging.Formatter("%(message)s"))
    _log.addHandler(_fallback)
    if _log.level == _logging.NOTSET:
        _log.setLevel(_logging.INFO)

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
