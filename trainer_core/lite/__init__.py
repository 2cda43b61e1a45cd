"""1.5's ``pytorch_lightning.lite``: :class:`LightningLite` for scripts that keep their own training loop."""

from trainer_core.lite.lite import LightningLite

__all__ = ["LightningLite"]
