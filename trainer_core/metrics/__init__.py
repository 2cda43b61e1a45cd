"""``pytorch_lightning.metrics``: removed in Lightning 1.5 (deprecated since 1.3); importing it says where it went.

Its metric classes moved to torchmetrics, which this project installs; a 1.x script that still imports
``pl.metrics`` gets this message instead of a bare ``ModuleNotFoundError``.
"""

from trainer_core.utilities.removed import METRICS_REMOVED

raise ImportError(METRICS_REMOVED)
