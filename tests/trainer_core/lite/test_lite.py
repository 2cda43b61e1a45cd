"""LightningLite (1.5): one process equals a plain PyTorch loop; ddp_spawn with 2 gloo processes shares the data and
keeps the weights in step; precision, save/load and the helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tests.trainer_core.lite.lite_scripts import RegressionLite, make_model, plain_loop
from trainer_core.exceptions import MisconfigurationError
from trainer_core.lite import LightningLite


def test_single_process_run_equals_the_plain_pytorch_loop() -> None:
    lite = RegressionLite(accelerator="cpu")
    out = lite.run(epochs=2)
    assert out["losses"] == pytest.approx(plain_loop(epochs=2, batch_size=4), abs=1e-7)
    assert out["world_size"] == 1 and out["gathered"] == [0.0]  # all_gather in one process: unchanged
    assert out["state_keys"] == ["0.bias", "0.weight", "2.bias", "2.weight"]  # no wrapper prefix
    assert lite.device == torch.device("cpu") and lite.is_global_zero


def test_ddp_spawn_two_processes_share_the_data_and_keep_weights_in_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    out = RegressionLite(accelerator="cpu", strategy="ddp_spawn", devices=2).run(epochs=1, batch_size=4)
    assert out["world_size"] == 2 and out["gathered"] == [[0.0], [1.0]]
    assert len(out["losses"]) == 2  # 16 samples / 2 ranks / batch 4
    first, second = out["weights"]
    assert torch.allclose(torch.tensor(first), torch.tensor(second))
    assert sum(len(batch) for batch in out["seen"]) == 8


class BF16Lite(LightningLite):
    def run(self) -> dict[str, Any]:
        model = self.setup(torch.nn.Linear(4, 2))
        x = torch.randn(3, 4)
        with self.autocast():
            inner = torch.nn.functional.linear(x, torch.randn(2, 4))
        return {"output": model(x).dtype, "inner": inner.dtype}


def test_bf16_autocasts_and_returns_float32_outputs() -> None:
    out = BF16Lite(precision="bf16").run()
    assert out == {"output": torch.float32, "inner": torch.bfloat16}


class Helpers(LightningLite):
    def run(self, folder: str) -> Any:
        model = self.setup(make_model())
        path = Path(folder) / "model.pt"
        self.save({"model": model.state_dict(), "epoch": 3}, path)
        loaded = self.load(path)
        fresh = make_model()
        for p in fresh.parameters():
            torch.nn.init.zeros_(p)
        fresh.load_state_dict(loaded["model"])
        moved = self.to_device({"x": torch.ones(1)})
        self.print("only on rank 0")
        return loaded["epoch"], all(torch.equal(a, b) for a, b in zip(fresh.parameters(), model.parameters())), moved


def test_save_load_print_and_to_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    epoch, same, moved = Helpers().run(str(tmp_path))
    assert epoch == 3 and same and moved["x"].device.type == "cpu"
    assert capsys.readouterr().out == "only on rank 0\n"
    assert LightningLite.seed_everything(5) == 5


def test_bad_settings_are_refused() -> None:
    with pytest.raises(MisconfigurationError, match="dp"):
        RegressionLite(strategy="dp")
    with pytest.raises(MisconfigurationError, match="precision"):
        RegressionLite(precision="fp8")
    with pytest.raises(TypeError):
        LightningLite()  # abstract: a subclass defines run
