"""The studio's settings file and runs folder moved into each test's temporary folder (never the user's).

One autouse fixture for every test folder that starts the studio or its models; a ``conftest.py`` activates it with
``from tests.helpers.studio_env import studio_env``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["studio_env"]


@pytest.fixture(autouse=True)
def studio_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings and runs in the test's temporary folder (never the user's); returns that folder."""
    monkeypatch.setenv("TRAINING_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("TRAINING_STUDIO_RUNS_DIR", str(tmp_path / "runs"))
    return tmp_path
