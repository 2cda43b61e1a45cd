"""`pl.metrics` (removed in Lightning 1.5) names torchmetrics instead of failing with a bare ModuleNotFoundError."""

from __future__ import annotations

import importlib

import pytest

import trainer_core as pl


def test_importing_pl_metrics_says_torchmetrics_took_its_place() -> None:
    with pytest.raises(ImportError, match=r"removed in Lightning 1\.5.*import torchmetrics"):
        importlib.import_module("trainer_core.metrics")
    with pytest.raises(ImportError, match="torchmetrics"):
        from trainer_core.metrics import Accuracy  # noqa: F401 - the pre-1.5 spelling


def test_pl_metrics_as_an_attribute_says_so_too_and_hasattr_stays_false() -> None:
    with pytest.raises(AttributeError, match="torchmetrics.Accuracy"):
        pl.metrics.Accuracy()  # noqa: B018
    assert not hasattr(pl, "metrics")
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        pl.nonexistent  # noqa: B018
