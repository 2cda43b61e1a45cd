"""Real 1.x scripts (a char-RNN, a U-Net) write ``Trainer(accelerator="gpu")`` and nothing else about devices. On a
machine without CUDA the error read "You requested GPUs [0] (gpus=1)": a flag the script never passed. It now names
``accelerator='gpu'`` and the way to the CPU; an explicit ``gpus=``/``devices=`` request keeps its own wording."""

from __future__ import annotations

import pytest

import trainer_core as pl
from trainer_core.accelerators import connector
from trainer_core.exceptions import MisconfigurationError


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connector, "_cuda_count", lambda: 0)


@pytest.mark.parametrize("accelerator", ["gpu", "cuda"])
def test_gpu_accelerator_alone_names_the_accelerator(no_cuda: None, accelerator: str) -> None:
    with pytest.raises(MisconfigurationError) as raised:
        pl.Trainer(accelerator=accelerator, logger=False, enable_checkpointing=False)
    message = str(raised.value)
    assert f"accelerator='{accelerator}' needs a GPU" in message
    assert "accelerator=\"cpu\"" in message
    assert "gpus=" not in message


@pytest.mark.parametrize(("flags", "named"), [({"gpus": 1}, "gpus=1"),
                                              ({"accelerator": "gpu", "devices": 2}, "devices=2")])
def test_explicit_gpu_requests_keep_their_flag(no_cuda: None, flags: dict, named: str) -> None:
    with pytest.raises(MisconfigurationError, match=named):
        pl.Trainer(logger=False, enable_checkpointing=False, **flags)
