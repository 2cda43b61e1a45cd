"""Callbacks that drive other packages: ONNX Runtime training (``torch-ort``) and SparseML recipes (``sparseml``).

Both packages are optional and not installed with the project; constructing a callback without its package
raises an error that names the package and the install command, before any training.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["ORTCallback", "SparseMLCallback"]


def _require(module: str, package: str, who: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MisconfigurationError(f"{who} needs the `{package}` package, which is not installed. Install it with "
                                    f"`pip install {package}`, or remove {who} from the callbacks.")


class ORTCallback(Callback):
    """Wraps ``pl_module.model`` in ``torch_ort.ORTModule`` when fitting starts (ONNX Runtime training).

    Raises:
        MisconfigurationError: without the ``torch-ort`` package, or when the module has no ``model`` attribute.
    """

    def __init__(self) -> None:
        _require("torch_ort", "torch-ort", "ORTCallback")

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        from torch_ort import ORTModule

        if not hasattr(pl_module, "model"):
            raise MisconfigurationError("ORTCallback wraps one model: assign the network that defines forward to "
                                        "`self.model` inside the LightningModule")
        pl_module.model = ORTModule(pl_module.model)


class SparseMLCallback(Callback):
    """Applies a SparseML recipe (pruning, quantization schedules) to the module and its optimizer during fit.

    Args:
        recipe_path: the recipe YAML (or a SparseZoo stub).

    Raises:
        MisconfigurationError: without the ``sparseml`` package.
    """

    def __init__(self, recipe_path: str) -> None:
        _require("sparseml", "sparseml", "SparseMLCallback")
        from sparseml.pytorch.optim import ScheduledModifierManager

        self.manager = ScheduledModifierManager.from_yaml(recipe_path)

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        if len(trainer.optimizers) != 1:
            raise MisconfigurationError("SparseMLCallback supports exactly one optimizer")
        steps_per_epoch = int(trainer.num_training_batches) if trainer.num_training_batches != float("inf") else 1
        trainer.optimizers = [self.manager.modify(pl_module, trainer.optimizers[0], steps_per_epoch=steps_per_epoch,
                                                  epoch=0)]

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        self.manager.finalize(pl_module)
