"""Check that a model does not mix samples across the batch dimension (Bolts' batch-gradient verification).

The gradient of one sample's output with respect to the whole input batch must be zero for every other sample.
A wrong ``view``/``permute`` that folds the batch into another dimension, or a batch-statistics layer in training
mode (BatchNorm), makes it non-zero; that bug trains without an error and only shows as worse results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from trainer_core.callback import Callback
from trainer_core.step_hooks import defines_loader
from trainer_core.utilities.apply import apply_to_tensors

__all__ = ["BatchGradientVerification", "BatchGradientVerificationCallback", "check_batch_independence",
           "default_input_mapping", "default_output_mapping"]

MIXING_MESSAGE = (
    "Your model is mixing data across the batch dimension: the gradient of one sample's output reaches other "
    "samples of the batch. This can lead to wrong gradient updates in the optimizer. Check the operations that "
    "reshape and permute tensor dimensions in your model (and layers such as BatchNorm that use batch statistics)."
)


def _tensors(data: Any) -> list[torch.Tensor]:
    found: list[torch.Tensor] = []
    apply_to_tensors(data, found.append)
    return found


def default_input_mapping(data: Any) -> list[torch.Tensor]:
    """Every tensor in the input (a tensor, or tensors in lists, tuples and dicts)."""
    return _tensors(data)


def default_output_mapping(data: Any) -> torch.Tensor:
    """The output tensors that have a batch dimension, flattened per sample and joined (``N x features``)."""
    tensors = [t for t in _tensors(data) if t.dim() > 0]
    return torch.cat([t.reshape(t.size(0), -1) for t in tensors], dim=1)


def _call(model: nn.Module, input_array: Any) -> Any:
    """Lightning's convention for ``example_input_array``: a tuple is positional arguments, a dict keywords."""
    if isinstance(input_array, tuple):
        return model(*input_array)
    if isinstance(input_array, dict):
        return model(**input_array)
    return model(input_array)


class BatchGradientVerification:
    """Checks a model for mixing data across the batch dimension.

    Args:
        model: the model (an ``nn.Module``; its mode, train or eval, is used as it is).
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def check(self, input_array: Any, input_mapping: Callable[[Any], list[torch.Tensor]] | None = None,
              output_mapping: Callable[[Any], torch.Tensor] | None = None, sample_idx: int = 0) -> bool:
        """True when only sample ``sample_idx`` of the input gets a gradient from its own output.

        Args:
            input_array: the model input (a batch of at least two samples).
            input_mapping: picks the batched input tensors from ``input_array``.
            output_mapping: turns the model output into one ``N x ...`` tensor.
            sample_idx: the sample whose output is differentiated.
        """
        input_mapping = input_mapping or default_input_mapping
        output_mapping = output_mapping or default_output_mapping
        input_array = apply_to_tensors(
            input_array, lambda t: t.detach().clone().requires_grad_(t.is_floating_point()))
        inputs = [t for t in input_mapping(input_array) if t.requires_grad]
        if not inputs:
            raise ValueError("BatchGradientVerification needs at least one floating-point input tensor")
        if any(t.size(0) < 2 for t in inputs):
            raise ValueError("BatchGradientVerification needs a batch of at least two samples in every input")
        self.model.zero_grad(set_to_none=True)
        with torch.enable_grad():
            output = output_mapping(_call(self.model, input_array))
            if not output.requires_grad:
                raise ValueError("the model's output does not depend on its input through autograd")
            grads = torch.autograd.grad(output[sample_idx].sum(), inputs, allow_unused=True)
        self.model.zero_grad(set_to_none=True)
        for grad in grads:
            if grad is None:
                continue
            others = torch.cat([grad[:sample_idx], grad[sample_idx + 1:]])
            if bool(others.abs().sum() > 0):
                return False
        return True


class BatchGradientVerificationCallback(Callback):
    """Runs :class:`BatchGradientVerification` on ``pl_module.example_input_array`` when training starts and
    raises with a plain explanation when the model mixes the batch.

    Args:
        input_mapping: picks the batched input tensors from the example input.
        output_mapping: turns the model output into one ``N x ...`` tensor.
        sample_idx: the sample whose output is differentiated.
    """

    def __init__(self, input_mapping: Callable[[Any], list[torch.Tensor]] | None = None,
                 output_mapping: Callable[[Any], torch.Tensor] | None = None, sample_idx: int = 0) -> None:
        self._input_mapping = input_mapping
        self._output_mapping = output_mapping
        self._sample_idx = sample_idx

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        example = getattr(pl_module, "example_input_array", None)
        if example is None:
            raise ValueError("BatchGradientVerificationCallback needs pl_module.example_input_array: set it in "
                             "__init__ to a batch of at least two samples")
        example = apply_to_tensors(example, lambda t: t.to(pl_module.device))
        verification = BatchGradientVerification(pl_module)
        if not verification.check(example, input_mapping=self._input_mapping, output_mapping=self._output_mapping,
                                  sample_idx=self._sample_idx):
            raise RuntimeError(MIXING_MESSAGE)


def _example_batch(model: nn.Module, datamodule: Any = None) -> Any:
    example = getattr(model, "example_input_array", None)
    if example is not None:
        return example
    source = datamodule if datamodule is not None else model
    loader_fn = getattr(source, "train_dataloader", None) if defines_loader(source, "train_dataloader") else None
    if loader_fn is None:
        raise ValueError(f"{type(model).__name__} has no example_input_array and no train_dataloader to take a batch "
                         "from: set self.example_input_array to a batch of at least two samples")
    for hook in ("prepare_data", "setup"):  # datasets are often made in these hooks
        method = getattr(source, hook, None)
        if callable(method):
            method(*(("fit",) if hook == "setup" else ()))
    batch = next(iter(loader_fn()))
    # A training batch is usually (inputs, targets): the model's forward takes the inputs.
    return batch[0] if isinstance(batch, (list, tuple)) and len(batch) > 1 else batch


def check_batch_independence(model: nn.Module, input_array: Any = None, sample_idx: int = 0,
                             datamodule: Any = None) -> tuple[bool, str]:
    """Whether ``model`` keeps the samples of a batch apart, with the answer in plain words.

    The input is ``input_array``, else ``model.example_input_array``, else the inputs of the first training batch
    (of ``datamodule`` when given, else of the model; their ``prepare_data`` and ``setup("fit")`` run first).
    A model that mixes only in training mode and not in eval mode mixes through batch statistics (BatchNorm), which
    is expected and said so. The model's mode is restored afterwards.

    Returns:
        ``(independent, message)``; ``independent`` is False only for mixing that is not batch statistics.
    """
    batch = input_array if input_array is not None else _example_batch(model, datamodule)
    size = next((t.size(0) for t in _tensors(batch) if t.dim() > 0), 0)
    was_training = model.training
    try:
        model.train()
        in_training = BatchGradientVerification(model).check(batch, sample_idx=sample_idx)
        model.eval()
        in_eval = BatchGradientVerification(model).check(batch, sample_idx=sample_idx)
    finally:
        model.train(was_training)
    name = type(model).__name__
    if in_training and in_eval:
        return True, (f"{name} keeps the samples of a batch apart: the output for sample {sample_idx} depends on input "
                      f"sample {sample_idx} only (checked with a batch of {size}).")
    if in_eval:
        return True, (f"{name} mixes samples only in training mode, through batch statistics (a BatchNorm-like "
                      "layer); in eval mode the samples stay apart. This is expected for such layers.")
    return False, f"{name}: {MIXING_MESSAGE} (checked with a batch of {size})"
