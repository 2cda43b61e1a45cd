"""1.x ``pytorch_lightning.plugins.environments``: where a process learns its ranks (see
:mod:`trainer_core.strategies.cluster`)."""

from trainer_core.strategies.cluster import (
    ClusterEnvironment,
    KubeflowEnvironment,
    LightningEnvironment,
    SLURMEnvironment,
    TorchElasticEnvironment,
)

__all__ = [
    "ClusterEnvironment",
    "KubeflowEnvironment",
    "LightningEnvironment",
    "SLURMEnvironment",
    "TorchElasticEnvironment",
]
