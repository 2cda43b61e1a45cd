"""track_grad_norm: values against numpy for several p, the 1.5 names, logging cadence, telemetry without logging."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from _techniques_models import BoringModel, RecordingLogger, trainer

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError
from trainer_core.trainer.fit_loop import grad_norm_dict


class DeepModel(BoringModel):
    """Several layers of different sizes, and a large loss so the norms are far from the 4-decimal rounding."""

    def __init__(self) -> None:
        super().__init__(batch_size=4, length=40, lr=0.01)
        self.layer = torch.nn.Sequential(torch.nn.Linear(32, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8),
                                         torch.nn.ReLU(), torch.nn.Linear(8, 2))
        self.frozen = torch.nn.Linear(2, 2)  # no gradient: never named in the norms
        self.expected: list[dict[str, float]] = []
        self.received: list[dict[str, float]] = []

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        return 20 * self.loss(self(batch))

    def on_before_optimizer_step(self, optimizer: Any, optimizer_idx: int) -> None:
        p = self.trainer.track_grad_norm
        if p == -1:
            return
        expected, flat = {}, []
        for name, param in self.named_parameters():
            if param.grad is None:
                continue
            grad = param.grad.detach().numpy().ravel().astype(np.float64)
            flat.append(grad)
            expected[f"grad_{float(p)}_norm/{name}"] = float(np.linalg.norm(grad, ord=p))
        expected[f"grad_{float(p)}_norm_total"] = float(np.linalg.norm(np.concatenate(flat), ord=p))
        self.expected.append(expected)

    def log_grad_norm(self, grad_norm_dict: dict[str, torch.Tensor]) -> None:
        self.received.append({k: v.item() for k, v in grad_norm_dict.items()})
        super().log_grad_norm(grad_norm_dict)


@pytest.mark.parametrize("p", [1, 1.25, 2, 3, 5, 10, "inf"])
def test_norms_match_numpy(p: Any) -> None:
    model = DeepModel()
    trainer(max_steps=3, track_grad_norm=p, limit_val_batches=0).fit(model)
    assert len(model.received) == len(model.expected) == 3
    for got, want in zip(model.received, model.expected, strict=True):
        assert got.keys() == want.keys()
        for name, value in want.items():
            assert got[name] == pytest.approx(value, rel=5e-3, abs=1e-4), name


def test_names_follow_1_5() -> None:
    model = DeepModel()
    t = trainer(max_steps=1, track_grad_norm=2, limit_val_batches=0)
    t.fit(model)
    assert sorted(t.grad_norms) == sorted(
        [f"grad_2.0_norm/layer.{i}.{kind}" for i in (0, 2, 4) for kind in ("weight", "bias")]
        + ["grad_2.0_norm_total"])
    assert all(isinstance(v, torch.Tensor) and v.ndim == 0 for v in t.grad_norms.values())
    t = trainer(max_steps=1, track_grad_norm="inf", limit_val_batches=0)
    t.fit(DeepModel())
    assert "grad_inf_norm_total" in t.grad_norms


def test_values_rounded_to_four_decimals() -> None:
    module = torch.nn.Linear(3, 1)
    module.weight.grad = torch.tensor([[0.123456, 0.0, 0.0]])
    norms = grad_norm_dict(module, 1)
    assert norms == {"grad_1.0_norm/weight": pytest.approx(0.1235, abs=1e-7),
                     "grad_1.0_norm_total": pytest.approx(0.1235, abs=1e-7)}
    assert grad_norm_dict(torch.nn.Linear(2, 2), 2) == {}  # no gradients yet


@pytest.mark.parametrize("n", [1, 2, 3])
def test_logged_with_step_and_epoch_suffixes_at_the_logger_cadence(n: int) -> None:
    logger = RecordingLogger()
    trainer(logger=logger, max_epochs=1, limit_train_batches=10, limit_val_batches=0, track_grad_norm=2,
            log_every_n_steps=n).fit(DeepModel())
    step_dicts = [m for _, m in logger.calls if "grad_2.0_norm_total_step" in m]
    epoch_dicts = [m for _, m in logger.calls if "grad_2.0_norm_total_epoch" in m]
    assert len(step_dicts) == 10 // n
    assert len(epoch_dicts) == 1
    assert "grad_2.0_norm/layer.0.weight_step" in step_dicts[0]
    assert "grad_2.0_norm/layer.0.weight_epoch" in epoch_dicts[0]
    assert [s for s, m in logger.calls if "grad_2.0_norm_total_step" in m] == list(range(n - 1, 10, n))


@pytest.mark.parametrize("bad", [0, -2, "two", "-inf", True])
def test_invalid_values_are_rejected(bad: Any) -> None:
    with pytest.raises(MisconfigurationError, match="track_grad_norm"):
        trainer(track_grad_norm=bad)


def test_off_by_default_and_nothing_computed() -> None:
    t = trainer(max_steps=2, limit_val_batches=0)
    t.fit(DeepModel())
    assert t.grad_norms == {}


def test_a_callback_can_ask_for_norms_without_logging() -> None:
    """The studio's telemetry sets ``grad_norm_type``: norms appear as device tensors, nothing is logged."""

    class Telemetry(Callback):
        grad_norm_type = 2.0

        def __init__(self) -> None:
            self.totals: list[torch.Tensor] = []

        def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
            self.totals.append(trainer.grad_norms["grad_2.0_norm_total"])

    telemetry, logger = Telemetry(), RecordingLogger()
    model = DeepModel()
    trainer(max_steps=4, limit_val_batches=0, callbacks=[telemetry], logger=logger, log_every_n_steps=1).fit(model)
    assert len(telemetry.totals) == 4 and all(math.isfinite(v.item()) and v.item() > 0 for v in telemetry.totals)
    assert model.received == []  # log_grad_norm is for track_grad_norm only
    assert not any(k.startswith("grad_") for _, m in logger.calls for k in m)


@pytest.mark.parametrize("p", [3.0, 10.0])
def test_large_p_does_not_overflow_float32(p: float) -> None:
    module = torch.nn.Linear(10, 1, bias=False)
    module.weight.grad = torch.full((1, 10), 2e4)
    want = float(np.linalg.norm(np.full(10, 2e4), ord=p))
    norms = grad_norm_dict(module, p)
    assert norms[f"grad_{p}_norm/weight"].item() == pytest.approx(want, rel=1e-5)
    assert norms[f"grad_{p}_norm_total"].item() == pytest.approx(want, rel=1e-5)


def test_layer_norms_group_parameters_of_one_module() -> None:
    from trainer_core.trainer.numerics import layer_grad_norms

    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    model(torch.randn(4, 3)).sum().backward()
    norms = grad_norm_dict(model, 2)
    layers = layer_grad_norms(norms)
    assert set(layers) == {"0", "2"}
    for index in ("0", "2"):
        flat = torch.cat([p.grad.flatten() for p in model[int(index)].parameters()])
        assert layers[index].item() == pytest.approx(torch.linalg.vector_norm(flat).item(), abs=2e-4)
    assert layer_grad_norms({}) == {}
