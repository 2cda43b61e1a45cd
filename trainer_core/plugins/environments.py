"""1.x ``pytorch_lightning.plugins.environments``: where a process learns its ranks (see
:mod:`trainer_core.strategies.cluster`, which defines them and lists them once in its ``__all__``)."""

from trainer_core.strategies import cluster as _cluster
from trainer_core.strategies.cluster import *  # noqa: F403 - the same classes under their 1.x module path

__all__: list[str] = []
__all__ += _cluster.__all__
