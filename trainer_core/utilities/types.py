"""1.5's type aliases for step and epoch outputs, used in users' hook annotations
(``from pytorch_lightning.utilities.types import STEP_OUTPUT, EPOCH_OUTPUT``)."""

from __future__ import annotations

from typing import Any, Union

import torch

STEP_OUTPUT = Union[torch.Tensor, dict[str, Any]]
EPOCH_OUTPUT = list[STEP_OUTPUT]

__all__ = ["EPOCH_OUTPUT", "STEP_OUTPUT"]
