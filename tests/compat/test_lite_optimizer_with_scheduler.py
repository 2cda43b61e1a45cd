"""The 1.5 Lite MNIST example builds ``StepLR(optimizer, ...)`` on the optimizer ``self.setup`` returned; torch's
schedulers only accept real ``torch.optim.Optimizer`` instances ("LiteOptimizer is not an Optimizer" before)."""

from __future__ import annotations

import warnings

import torch
from torch.optim.lr_scheduler import StepLR

from trainer_core.lite import LightningLite


class _ScheduledLite(LightningLite):
    def run(self) -> dict:
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        model, optimizer = self.setup(model, torch.optim.Adadelta(model.parameters(), lr=1.0))
        scheduler = StepLR(optimizer, step_size=1, gamma=0.5)
        before = [p.detach().clone() for p in model.parameters()]
        with warnings.catch_warnings():
            # torch warns when scheduler.step() comes before any optimizer.step() it saw: the step must count
            warnings.simplefilter("error", UserWarning)
            for _ in range(2):
                optimizer.zero_grad()
                self.backward(model(torch.randn(8, 4)).pow(2).mean())
                optimizer.step()
                scheduler.step()
        return {
            "optimizer": optimizer,
            "moved": any(not torch.equal(b, p) for b, p in zip(before, model.parameters())),
            "state_keys": set(optimizer.state_dict()),
        }


def test_lite_optimizer_is_the_users_optimizer_class_and_schedulers_drive_it() -> None:
    out = _ScheduledLite(accelerator="cpu").run()
    optimizer = out["optimizer"]
    assert isinstance(optimizer, torch.optim.Adadelta)
    assert isinstance(optimizer, torch.optim.Optimizer)
    assert out["moved"]
    # the lr the scheduler set is the wrapped optimizer's lr (shared param_groups)
    assert optimizer.param_groups[0]["lr"] == 0.25
    assert optimizer.optimizer.param_groups[0]["lr"] == 0.25
    assert out["state_keys"] == {"state", "param_groups"}
