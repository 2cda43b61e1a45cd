"""LightningModule.to_torchscript (script and trace), to_onnx (optional onnx), all_gather in one process, print."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import trainer_core as pl
from trainer_core.exceptions import MisconfigurationError


class Net(pl.LightningModule):
    def __init__(self, hidden: int = 4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.layer = torch.nn.Linear(3, hidden)
        self.drop = torch.nn.Dropout(0.5)
        self.example_input_array = torch.randn(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.layer(x)).relu()


@pytest.mark.parametrize("method", ["script", "trace"])
def test_to_torchscript_matches_the_module_in_eval_mode_and_saves(method: str, tmp_path: Path) -> None:
    model = Net()
    model.train()
    path = tmp_path / f"{method}.pt"
    compiled = model.to_torchscript(file_path=path, method=method)
    assert model.training  # the mode is restored
    x = torch.randn(5, 3)
    model.eval()
    assert torch.allclose(compiled(x), model(x))
    assert torch.allclose(torch.jit.load(str(path))(x), model(x))
    assert "__jit_unused_properties__" not in vars(Net)  # the export leaves the class as it was


def test_trace_needs_an_example_and_unknown_methods_fail() -> None:
    model = Net()
    model.example_input_array = None
    with pytest.raises(MisconfigurationError, match="example_input_array"):
        model.to_torchscript(method="trace")
    assert isinstance(model.to_torchscript(method="trace", example_inputs=torch.randn(1, 3)), torch.jit.ScriptModule)
    with pytest.raises(ValueError, match='method="script" or method="trace"'):
        model.to_torchscript(method="compile")


def test_to_onnx_without_onnx_names_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # imports of onnx fail as if it were not installed
    with pytest.raises(MisconfigurationError, match="`onnx` package.*pip install onnx") as err:
        Net().to_onnx(tmp_path / "net.onnx")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "net.onnx").exists()


@pytest.mark.skipif(importlib.util.find_spec("onnx") is None,
                    reason="needs the optional onnx package (in the test extra: pip install -e .[test])")
def test_to_onnx_writes_a_model_that_onnx_accepts_and_computes_the_same(tmp_path: Path) -> None:
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = Net()
    model.train()
    path = tmp_path / "net.onnx"
    model.to_onnx(path, input_names=["x"])
    assert model.training  # exported in eval mode, the mode restored after
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    x = torch.randn(2, 3)
    (computed,) = ReferenceEvaluator(proto).run(None, {"x": x.numpy()})
    model.eval()
    torch.testing.assert_close(torch.from_numpy(computed), model(x).detach(), rtol=1e-5, atol=1e-6)


def test_all_gather_in_one_process_returns_the_data_unchanged() -> None:
    model = Net()
    data: dict[str, Any] = {"a": torch.ones(2)}
    assert model.all_gather(data) is data
    trainer = pl.Trainer(logger=False, enable_checkpointing=False, enable_progress_bar=False)
    object.__setattr__(model, "trainer", trainer)
    tensor = torch.arange(3)
    assert model.all_gather(tensor) is tensor


def test_print_only_on_global_rank_zero(capsys: pytest.CaptureFixture[str]) -> None:
    model = Net()
    model.print("shown")

    class Rank1:
        is_global_zero = False

    object.__setattr__(model, "trainer", Rank1())
    model.print("hidden")
    assert capsys.readouterr().out == "shown\n"
