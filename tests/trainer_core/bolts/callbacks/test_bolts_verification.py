"""Batch-gradient verification: a model that mixes the batch is caught, a clean one passes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainer_core.bolts.callbacks import BatchGradientVerification, BatchGradientVerificationCallback


class Clean(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)


class Mixing(Clean):
    """The classic bug: a view that folds the batch into the features."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.size(0)
        swapped = x.view(4, batch).t()  # wrong: should be x.view(batch, 4)
        return self.layer(swapped.contiguous())


def test_clean_model_passes_and_mixing_model_is_caught() -> None:
    x = torch.randn(5, 4)
    assert BatchGradientVerification(Clean()).check(x)
    assert not BatchGradientVerification(Mixing()).check(x)
    assert BatchGradientVerification(Clean()).check(x, sample_idx=3)


def test_batchnorm_in_train_mode_mixes_and_in_eval_mode_does_not() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    x = torch.randn(6, 4)
    assert not BatchGradientVerification(model.train()).check(x)
    assert BatchGradientVerification(model.eval()).check(x)


def test_mappings_pick_inputs_and_outputs() -> None:
    class DictModel(nn.Module):
        def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
            return {"out": x * 2, "aux": y.mean(0, keepdim=True).expand_as(y)}

    example = (torch.randn(3, 2), torch.randn(3, 2))
    assert BatchGradientVerification(DictModel()).check(
        example, input_mapping=lambda data: [data[0]], output_mapping=lambda out: out["out"])
    assert not BatchGradientVerification(DictModel()).check(example), "aux mixes y across the batch"


class Module(Mixing):
    def __init__(self) -> None:
        super().__init__()
        self.example_input_array = torch.randn(3, 4)

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")


def test_callback_raises_a_plain_explanation_for_a_mixing_model() -> None:
    with pytest.raises(RuntimeError, match="mixing data across the batch dimension"):
        BatchGradientVerificationCallback().on_train_start(None, Module())
    module = Module()
    del module.example_input_array
    with pytest.raises(ValueError, match="example_input_array"):
        BatchGradientVerificationCallback().on_train_start(None, module)


def test_check_batch_independence_says_the_result_in_plain_words() -> None:
    from torch.utils.data import DataLoader, TensorDataset

    from trainer_core.bolts.callbacks import check_batch_independence

    ok, message = check_batch_independence(Clean(), torch.randn(4, 4))
    assert ok and "keeps the samples of a batch apart" in message and "batch of 4" in message
    ok, message = check_batch_independence(Module())  # example_input_array of 3
    assert not ok and "mixing data across the batch dimension" in message and "batch of 3" in message
    batchnorm = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).eval()
    ok, message = check_batch_independence(batchnorm, torch.randn(5, 4))
    assert ok and "batch statistics" in message and not batchnorm.training, "the mode is restored"

    class FromLoader(Clean):
        def train_dataloader(self) -> DataLoader:
            return DataLoader(TensorDataset(torch.randn(8, 4), torch.zeros(8)), batch_size=6)

    ok, message = check_batch_independence(FromLoader())
    assert ok and "batch of 6" in message, "the inputs of the first training batch"


def test_callback_stops_a_real_fit_of_a_mixing_model_before_the_first_step() -> None:
    import trainer_core as pl
    from tests.helpers.boring_model import BoringModel

    class MixingBoring(BoringModel):
        def __init__(self) -> None:
            super().__init__(batch_size=4)
            self.example_input_array = torch.randn(4, 32)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layer(x.roll(1, dims=0))  # each sample sees its neighbour's features

    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[BatchGradientVerificationCallback()])
    with pytest.raises(RuntimeError, match="mixing data across the batch dimension"):
        trainer.fit(MixingBoring())
    assert trainer.global_step == 0
