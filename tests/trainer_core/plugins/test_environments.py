"""Cluster environments (1.x plugins.environments): detection, ranks, and their use through ``plugins=``."""

from __future__ import annotations

import pytest

import trainer_core as pl
from trainer_core.plugins.environments import (
    KubeflowEnvironment,
    LightningEnvironment,
    SLURMEnvironment,
    TorchElasticEnvironment,
)

QUIET = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
LAUNCHER_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "GROUP_RANK", "NODE_RANK", "MASTER_ADDR", "MASTER_PORT",
                 "KUBERNETES_PORT", "SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_NODEID", "SLURM_JOB_ID",
                 "SLURM_JOB_NAME", "SLURM_JOB_NODELIST", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in LAUNCHER_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_slurm_environment_reads_the_job_step(clean_env: pytest.MonkeyPatch) -> None:
    assert not SLURMEnvironment.detect()
    step = {"SLURM_NTASKS": "4", "SLURM_PROCID": "3", "SLURM_LOCALID": "1", "SLURM_NODEID": "1",
            "SLURM_JOB_ID": "123456", "SLURM_JOB_NAME": "train", "SLURM_JOB_NODELIST": "gpu[07-08]"}
    for name, value in step.items():
        clean_env.setenv(name, value)
    env = SLURMEnvironment(auto_requeue=False)
    assert SLURMEnvironment.detect() and env.creates_children() and not env.auto_requeue
    assert (env.world_size(), env.global_rank(), env.local_rank(), env.node_rank()) == (4, 3, 1, 1)
    assert (env.master_address(), env.master_port()) == ("gpu07", 15000 + 3456)
    assert env.requeue_command() == ["scontrol", "requeue", "123456"]
    assert SLURMEnvironment().auto_requeue
    clean_env.setenv("SLURM_JOB_NAME", "bash")  # an interactive allocation is not a launcher
    assert not SLURMEnvironment.detect()


def test_torchelastic_and_kubeflow_environments(clean_env: pytest.MonkeyPatch) -> None:
    assert not TorchElasticEnvironment.detect() and not KubeflowEnvironment.detect()
    for name, value in {"RANK": "5", "WORLD_SIZE": "8", "MASTER_ADDR": "head", "MASTER_PORT": "1234",
                        "KUBERNETES_PORT": "tcp://10.0.0.1:443"}.items():
        clean_env.setenv(name, value)
    kubeflow = KubeflowEnvironment()
    assert KubeflowEnvironment.detect()
    assert (kubeflow.global_rank(), kubeflow.local_rank(), kubeflow.node_rank(), kubeflow.world_size()) == (5, 0, 5, 8)
    clean_env.setenv("LOCAL_RANK", "1")
    clean_env.setenv("GROUP_RANK", "2")
    elastic = TorchElasticEnvironment()
    assert TorchElasticEnvironment.detect() and not KubeflowEnvironment.detect()
    assert (elastic.global_rank(), elastic.local_rank(), elastic.node_rank(), elastic.master_port()) == (5, 1, 2, 1234)


def test_lightning_environment_means_the_trainer_starts_the_processes(clean_env: pytest.MonkeyPatch) -> None:
    env = LightningEnvironment()
    assert not env.creates_children() and env.master_address() == "127.0.0.1" and env.master_port() > 0
    env.set_world_size(3)
    env.set_global_rank(2)
    assert (env.world_size(), env.global_rank()) == (3, 2)


def test_an_environment_in_plugins_gives_the_ddp_ranks(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in {"SLURM_NTASKS": "2", "SLURM_PROCID": "1", "SLURM_LOCALID": "1", "SLURM_NODEID": "0",
                        "SLURM_JOB_ID": "77", "SLURM_JOB_NAME": "train"}.items():
        clean_env.setenv(name, value)
    environment = SLURMEnvironment(auto_requeue=False)
    trainer = pl.Trainer(strategy="ddp", accelerator="cpu", devices=2, plugins=[environment], **QUIET)
    try:
        assert trainer.strategy.cluster_environment is environment
        assert (trainer.global_rank, trainer.local_rank, trainer.world_size) == (1, 1, 2)
        assert not trainer.strategy.launches_processes  # SLURM started both ranks
    finally:
        from trainer_core.loggers import rank_zero_only

        rank_zero_only.rank = 0
    local = pl.Trainer(strategy="ddp", accelerator="cpu", devices=2, plugins=[LightningEnvironment()], **QUIET)
    assert local.global_rank == 0 and local.strategy.launches_processes


def test_two_environments_are_an_error() -> None:
    with pytest.raises(pl.MisconfigurationError, match="2 cluster environments"):
        pl.Trainer(plugins=[LightningEnvironment(), SLURMEnvironment()], **QUIET)
