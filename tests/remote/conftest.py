"""Fixtures for tests against a real sshd on 127.0.0.1 and a real one-node SLURM cluster (one per test module)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from tests.remote.cluster import Cluster, cluster_missing, start_cluster
from tests.remote.sshd import SshServer, sshd_missing, start_sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """A throw-away sshd whose remote Python is this test run's (so ``trainer_core`` is importable there)."""
    reason = sshd_missing()
    if reason:
        pytest.skip(reason)
    server = start_sshd(tmp_path_factory.mktemp("sshd"), python=sys.executable)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A one-node SLURM cluster (munged, slurmctld, slurmd) with every file in a temporary folder."""
    reason = cluster_missing()
    if reason:
        pytest.skip(reason)
    cluster = start_cluster(tmp_path_factory.mktemp("slurm"))
    yield cluster
    cluster.stop()
