"""Histograms of what flows through training: the batch (TrainingDataMonitor) and submodule inputs and outputs
(ModuleDataMonitor), logged with ``logger.experiment.add_histogram`` every ``log_every_n_steps`` steps.

On the other steps a monitor does one integer comparison per hook: no histogram is computed and nothing is read
from the device. On a logging step the histogram is computed on the device and copied to the host by the logger's
media thread (see :mod:`trainer_core.telemetry.media`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from trainer_core.bolts.callbacks._common import experiment_with
from trainer_core.callback import Callback

__all__ = ["DataMonitorBase", "ModuleDataMonitor", "TrainingDataMonitor", "collect_and_name_tensors"]


def collect_and_name_tensors(data: Any, output: dict[str, torch.Tensor], parent_name: str = "input") -> None:
    """Every tensor in ``data`` under a name: a tensor is ``parent_name``, list items ``parent/0``, dict values
    ``parent/key`` (numpy arrays count as tensors)."""
    if isinstance(data, np.ndarray):
        data = torch.from_numpy(data)
    if isinstance(data, torch.Tensor):
        output[parent_name] = data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            collect_and_name_tensors(value, output, f"{parent_name}/{key}")
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            collect_and_name_tensors(value, output, f"{parent_name}/{index}")


class DataMonitorBase(Callback):
    """Shared logic: decide per step whether to log, and log named tensors as histograms.

    Args:
        log_every_n_steps: steps between two logged histograms; None means the trainer's ``log_every_n_steps``,
            0 turns logging off.
    """

    def __init__(self, log_every_n_steps: int | None = None) -> None:
        self._log_every_n_steps = log_every_n_steps
        self._log = False
        self._logged_this_step: set[str] = set()
        self._trainer: Any = None

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._trainer = trainer
        if self._log_every_n_steps is None:
            self._log_every_n_steps = int(getattr(trainer, "log_every_n_steps", 50) or 50)

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, *args: Any) -> None:
        every = self._log_every_n_steps or 0
        self._log = every > 0 and trainer.global_step % every == 0
        if self._log:
            self._logged_this_step.clear()

    def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
        self._log = False  # validation forwards between training steps are not logged

    def log_histograms(self, batch: Any, group: str = " ") -> None:
        """Log every tensor in ``batch`` as a histogram named under ``group`` (on logging steps only)."""
        if not self._log or self._trainer is None:
            return
        named: dict[str, torch.Tensor] = {}
        collect_and_name_tensors(batch, output=named, parent_name=group)
        for name, tensor in named.items():
            if name in self._logged_this_step:
                continue  # a second forward in the same step (sampling images, say) is not the training input
            self._logged_this_step.add(name)
            self.log_histogram(tensor, name)

    def log_histogram(self, tensor: torch.Tensor, name: str) -> None:
        """One histogram at the trainer's global step."""
        experiment = experiment_with(self._trainer, "add_histogram", self)
        if experiment is not None:
            experiment.add_histogram(name, tensor.detach(), global_step=self._trainer.global_step)


class ModuleDataMonitor(DataMonitorBase):
    """Histograms of the inputs and outputs of submodules, named ``input/<submodule>`` and ``output/<submodule>``
    (``input`` and ``output`` for the LightningModule itself).

    Args:
        submodules: None for the LightningModule's own forward only, True for every submodule, or a list of
            submodule names (as in ``named_modules()``).
        log_every_n_steps: steps between two logged histograms (default: the trainer's ``log_every_n_steps``).
    """

    GROUP_NAME_INPUT = "input"
    GROUP_NAME_OUTPUT = "output"

    def __init__(self, submodules: bool | list[str] | None = None, log_every_n_steps: int | None = None) -> None:
        super().__init__(log_every_n_steps=log_every_n_steps)
        self._submodule_names = submodules
        self._hook_handles: list[Any] = []

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        super().on_train_start(trainer, pl_module)
        self._remove_hooks()
        modules = dict(pl_module.named_modules())
        for name in self._get_submodule_names(pl_module):
            if name not in modules:
                raise ValueError(f"ModuleDataMonitor: {type(pl_module).__name__} has no submodule {name!r}; "
                                 f"known names: {', '.join(n for n in modules if n)}")
            self._hook_handles.append(self._register_hook(name, modules[name]))

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        self._remove_hooks()

    def _remove_hooks(self) -> None:
        for handle in self._hook_handles:
            handle.remove()
        self._hook_handles.clear()

    def _get_submodule_names(self, root_module: nn.Module) -> list[str]:
        if self._submodule_names is True:
            return [name for name, _ in root_module.named_modules()]
        if isinstance(self._submodule_names, list):
            return list(self._submodule_names)
        return [""]

    def _register_hook(self, module_name: str, module: nn.Module) -> Any:
        input_group = f"{self.GROUP_NAME_INPUT}/{module_name}" if module_name else self.GROUP_NAME_INPUT
        output_group = f"{self.GROUP_NAME_OUTPUT}/{module_name}" if module_name else self.GROUP_NAME_OUTPUT

        def hook(_module: nn.Module, inputs: Any, output: Any) -> None:
            if not self._log:
                return
            self.log_histograms(inputs[0] if len(inputs) == 1 else inputs, group=input_group)
            self.log_histograms(output, group=output_group)

        return module.register_forward_hook(hook)


class TrainingDataMonitor(DataMonitorBase):
    """Histograms of the training batch as it enters ``training_step``: ``training_step`` for a tensor,
    ``training_step/0``, ``training_step/1`` ... for a tuple (``training_step/<key>`` for a dict).

    Args:
        log_every_n_steps: steps between two logged histograms (default: the trainer's ``log_every_n_steps``).
    """

    GROUP_NAME = "training_step"

    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int, *args: Any) -> None:
        super().on_train_batch_start(trainer, pl_module, batch, batch_idx)
        self.log_histograms(batch, group=self.GROUP_NAME)
