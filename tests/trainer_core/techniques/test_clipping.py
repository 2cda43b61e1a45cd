"""gradient_clip_val / gradient_clip_algorithm: values, cadence, overriding, and the order under a GradScaler."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
import torch
from _techniques_models import BoringModel, trainer

from trainer_core.exceptions import MisconfigurationError
from trainer_core.precision import MixedPrecision


def _total_norm(module: torch.nn.Module) -> float:
    grads = [p.grad.detach().flatten() for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.cat(grads)).item()


class AfterClip(BoringModel):
    """Records the gradients the optimizer step receives (after clipping) and the pre-step hook's view."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stepped_norms: list[float] = []
        self.stepped_max: list[float] = []
        self.before_step_grads: list[torch.Tensor] = []
        self.after_backward_grads: list[torch.Tensor] = []
        self.clip_calls = 0

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
        # A loss with large gradients so that clipping really acts.
        return {"loss": 1000 * self.loss(self(batch))}

    def on_after_backward(self) -> None:
        self.after_backward_grads.append(self.layer.weight.grad.detach().clone())

    def on_before_optimizer_step(self, optimizer: Any, optimizer_idx: int) -> None:
        self.before_step_grads.append(self.layer.weight.grad.detach().clone())

    def configure_gradient_clipping(self, optimizer: Any, optimizer_idx: int, gradient_clip_val: Any = None,
                                    gradient_clip_algorithm: Any = None) -> None:
        self.clip_calls += 1
        super().configure_gradient_clipping(optimizer, optimizer_idx, gradient_clip_val, gradient_clip_algorithm)

    def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_idx: int = 0,
                       optimizer_closure: Any = None, **kwargs: Any) -> None:
        # The closure (training_step, backward, clipping) runs inside the step: the step leaves the gradients it
        # used in place, so they are read after it.
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_idx, optimizer_closure, **kwargs)
        self.stepped_norms.append(_total_norm(self))
        self.stepped_max.append(max(p.grad.abs().max().item() for p in self.parameters()))


def test_clip_by_norm_gives_exactly_the_max_norm() -> None:
    model = AfterClip(batch_size=4)
    trainer(max_steps=1, gradient_clip_val=0.05, limit_val_batches=0).fit(model)
    assert model.stepped_norms == [pytest.approx(0.05, abs=1e-6)]


def test_clip_by_value_caps_every_element() -> None:
    model = AfterClip(batch_size=4)
    trainer(max_steps=1, gradient_clip_val=1e-10, gradient_clip_algorithm="value", limit_val_batches=0).fit(model)
    assert model.stepped_max == [pytest.approx(1e-10, rel=1e-6)]


@pytest.mark.parametrize("value", [None, 0, -1.0])
def test_no_clipping_when_off(value: Any) -> None:
    model = AfterClip(batch_size=4)
    trainer(max_steps=1, gradient_clip_val=value, limit_val_batches=0).fit(model)
    assert model.stepped_norms[0] > 1.0  # untouched (1000 x the MSE gradient)


def test_clipping_once_per_optimizer_step_on_the_accumulated_gradient() -> None:
    model = AfterClip(length=10)
    t = trainer(max_epochs=1, accumulate_grad_batches=3, gradient_clip_val=0.05, limit_val_batches=0)
    t.fit(model)
    assert model.clip_calls == t.global_step == 4  # windows end at batches 2, 5, 8 and the last batch 9
    assert model.stepped_norms == [pytest.approx(0.05, abs=1e-6)] * 4
    assert len(model.after_backward_grads) == 10


def test_invalid_algorithm_is_rejected() -> None:
    with pytest.raises(MisconfigurationError, match="gradient_clip_algorithm"):
        trainer(gradient_clip_val=1.0, gradient_clip_algorithm="max")


def test_configure_gradient_clipping_and_clip_gradients_are_overridable() -> None:
    class Custom(AfterClip):
        def configure_gradient_clipping(self, optimizer: Any, optimizer_idx: int, gradient_clip_val: Any = None,
                                        gradient_clip_algorithm: Any = None) -> None:
            assert (gradient_clip_val, gradient_clip_algorithm) == (5.0, "norm")
            self.clip_gradients(optimizer, gradient_clip_val=0.01, gradient_clip_algorithm="value")

    model = Custom(batch_size=4)
    trainer(max_steps=2, gradient_clip_val=5.0, limit_val_batches=0).fit(model)
    assert model.stepped_max == [pytest.approx(0.01)] * 2


class ScaledFloat32(MixedPrecision):
    """A real GradScaler on the CPU without autocast: gradients are exactly scale x the float32 gradients."""

    def __init__(self, scale: float) -> None:
        super().__init__(torch.float32, "cpu", torch.amp.GradScaler("cpu", init_scale=scale, growth_interval=10**6))

    def forward_context(self) -> Any:
        return nullcontext()


SCALE = 2.0**24


def test_gradscaler_hooks_tracking_and_clipping_see_unscaled_gradients() -> None:
    torch.manual_seed(0)
    plain, scaled = AfterClip(batch_size=4), AfterClip(batch_size=4)
    scaled.load_state_dict(plain.state_dict())
    flags = {"max_steps": 1, "gradient_clip_val": 0.05, "limit_val_batches": 0, "track_grad_norm": 2}
    trainer(**flags).fit(plain)
    t = trainer(plugins=[ScaledFloat32(SCALE)], **flags)
    t.fit(scaled)
    assert t.scaler is not None and t.scaler.get_scale() == SCALE
    # backward ran on the scaled loss: on_after_backward sees scaled gradients (1.5 semantics) ...
    torch.testing.assert_close(scaled.after_backward_grads[0], plain.after_backward_grads[0] * SCALE)
    # ... then unscale_ ran before on_before_optimizer_step, grad-norm tracking and clipping.
    torch.testing.assert_close(scaled.before_step_grads[0], plain.before_step_grads[0])
    assert scaled.stepped_norms == [pytest.approx(0.05, abs=1e-6)]
    pre_clip = torch.linalg.vector_norm(plain.before_step_grads[0]).item()
    assert t.grad_norms["grad_2.0_norm/layer.weight"].item() == pytest.approx(pre_clip, rel=1e-3)
    torch.testing.assert_close(scaled.layer.weight, plain.layer.weight)


def test_gradscaler_skips_the_step_on_overflow_and_lowers_the_scale() -> None:
    model = AfterClip(batch_size=4)
    before = model.layer.weight.detach().clone()
    t = trainer(plugins=[ScaledFloat32(2.0**127)], max_steps=1, gradient_clip_val=0.05, limit_val_batches=0)
    t.fit(model)
    assert torch.equal(model.layer.weight, before)  # inf gradients: the scaler skipped optimizer.step
    assert t.scaler.get_scale() < 2.0**127


def test_precision_plugin_and_precision_flag_conflict() -> None:
    with pytest.raises(MisconfigurationError, match="precision plugin"):
        trainer(plugins=[ScaledFloat32(2.0)], precision="bf16")
