"""The optimizer step itself: LBFGS re-evaluates the closure, overrides of optimizer_step keep working."""

from __future__ import annotations

from typing import Any

import torch
from _techniques_models import BoringModel, trainer


def test_lbfgs_runs_the_whole_step_in_its_closure() -> None:
    class Lbfgs(BoringModel):
        def __init__(self) -> None:
            super().__init__(batch_size=8, length=16)
            self.steps_seen = 0
            self.clip_calls = 0

        def training_step(self, batch: torch.Tensor, batch_idx: int) -> Any:
            self.steps_seen += 1
            return self.loss(self(batch))

        def configure_gradient_clipping(self, *args: Any, **kwargs: Any) -> None:
            self.clip_calls += 1

        def configure_optimizers(self) -> Any:
            return torch.optim.LBFGS(self.parameters(), lr=0.5, max_iter=4)

    model = Lbfgs()
    t = trainer(max_epochs=1, limit_val_batches=0)
    t.fit(model)
    assert t.global_step == 2
    assert model.steps_seen > 2  # LBFGS evaluated the closure several times per step
    assert model.clip_calls == model.steps_seen  # the pre-step part runs inside every evaluation


def test_optimizer_step_override_with_positional_or_keyword_arguments() -> None:
    calls: list[tuple[int, bool, bool]] = []

    class Override(BoringModel):
        def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_idx: int,
                           optimizer_closure: Any, on_tpu: bool, using_native_amp: bool, using_lbfgs: bool) -> None:
            calls.append((batch_idx, using_native_amp, using_lbfgs))
            optimizer.step(closure=optimizer_closure)

    model = Override(length=3)
    before = model.layer.weight.detach().clone()
    trainer(max_epochs=1, limit_val_batches=0).fit(model)
    assert calls == [(0, False, False), (1, False, False), (2, False, False)]
    assert not torch.equal(before, model.layer.weight)


def test_warmup_override_sees_a_closure_that_returns_the_loss() -> None:
    losses: list[float] = []

    class Warmup(BoringModel):
        def optimizer_step(self, epoch: int, batch_idx: int, optimizer: Any, optimizer_idx: int = 0,
                           optimizer_closure: Any = None, **kwargs: Any) -> None:
            for group in optimizer.param_groups:
                group["lr"] = 0.1 * min(1.0, (self.trainer.global_step + 1) / 3)
            losses.append(float(optimizer_closure().detach()))
            optimizer.step()

    trainer(max_epochs=1, limit_val_batches=0).fit(Warmup(length=4))
    assert len(losses) == 4 and all(v > 0 for v in losses)
