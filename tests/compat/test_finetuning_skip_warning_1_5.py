"""``unfreeze_and_add_param_group`` warns when parameters it should add are already in the optimizer (1.5 warns and
skips them): the usual cause is an optimizer built over every parameter, so the "unfrozen" backbone silently trains at
the head's learning rate. Found by Lightning 1.5's test_finetuning_callback."""

from __future__ import annotations

import warnings

import pytest
import torch

from trainer_core.callbacks import BaseFinetuning


def _two_layers() -> torch.nn.Sequential:
    return torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Linear(3, 1))


def test_params_already_in_the_optimizer_are_skipped_with_a_warning():
    net = _two_layers()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)  # every parameter, the 1.x mistake
    BaseFinetuning.freeze(net[0])
    with pytest.warns(UserWarning, match=r"2 parameter\(s\) are already in the optimizer"):
        BaseFinetuning.unfreeze_and_add_param_group(net[0], optimizer, lr=0.01)
    assert len(optimizer.param_groups) == 1
    assert net[0].weight.requires_grad


def test_no_warning_when_the_optimizer_holds_only_the_head():
    net = _two_layers()
    BaseFinetuning.freeze(net[0])
    optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        BaseFinetuning.unfreeze_and_add_param_group(net[0], optimizer, lr=0.01)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 0.01]
