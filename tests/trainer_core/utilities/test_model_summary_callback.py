"""The ModelSummary callback on its own (a stand-in trainer); the Trainer flag is tested with the real engine."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from torch import nn

from trainer_core.callbacks.model_summary import ModelSummary


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(256, 512), nn.BatchNorm1d(512))


def test_prints_table_on_rank_zero(capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[str, Any]] = []
    trainer = SimpleNamespace(is_global_zero=True, precision="32-true",
                              _call_telemetry=lambda name, data: calls.append((name, data)))
    callback = ModelSummary(max_depth=1)
    callback.on_fit_start(trainer, _net())
    out = capsys.readouterr().out
    assert "0 | 0    | Linear      | 131 K" in out
    assert "0.530     Total estimated model params size (MB)" in out
    assert calls and calls[0][0] == "on_model_summary"
    assert calls[0][1]["total_params"] == 132_608
    assert [row["type"] for row in calls[0][1]["rows"]] == ["Linear", "BatchNorm1d"]


def test_silent_on_other_ranks_and_depth_zero(capsys: pytest.CaptureFixture[str]) -> None:
    ModelSummary().on_fit_start(SimpleNamespace(is_global_zero=False), _net())
    ModelSummary(max_depth=0).on_fit_start(SimpleNamespace(is_global_zero=True), _net())
    assert capsys.readouterr().out == ""


def test_uses_trainer_precision_for_size(capsys: pytest.CaptureFixture[str]) -> None:
    callback = ModelSummary()
    callback.on_fit_start(SimpleNamespace(is_global_zero=True, precision="64-true"), _net())
    assert callback.last_summary is not None
    assert f"{callback.last_summary.model_size_mb:.3f}" == "1.061"
    assert "1.061     Total estimated" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [-2, 1.5, "top", True])
def test_rejects_bad_depth(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_depth"):
        ModelSummary(max_depth=bad)
