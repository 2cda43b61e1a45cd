"""More 1.x module paths, found by the second batch of real user scripts (each stopped one script at import)."""

from __future__ import annotations

import importlib

import pytest

import trainer_core as pl


@pytest.mark.parametrize(("module", "name"), [
    ("trainer_core.utilities.seed", "seed_everything"),
    ("trainer_core.utilities.seed", "reset_seed"),
    ("trainer_core.utilities.seed", "pl_worker_init_function"),
])
def test_1x_import_path_resolves(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name), f"from {module} import {name}"


def test_seed_everything_from_the_old_path_is_the_engine_one() -> None:
    from trainer_core.utilities.seed import seed_everything

    assert seed_everything is pl.seed_everything
    assert seed_everything(7) == 7
