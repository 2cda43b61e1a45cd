"""Fixtures for tests against a real sshd (started per test module on 127.0.0.1)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

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
