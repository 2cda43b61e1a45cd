"""Where a tunable value lives: the model attribute, a ``model.hparams`` entry, and the datamodule attribute.

Reading uses the last holder found (so a datamodule value wins, as in Lightning 1.x); writing sets every holder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from trainer_core.exceptions import MisconfigurationError

__all__ = ["Holders", "find_holders", "lr_attr_name"]

log = logging.getLogger("trainer_core")

LR_NAMES = ("lr", "learning_rate")


@dataclass
class Holders:
    """The places that hold ``name``, in lookup order (model, model.hparams, datamodule)."""

    name: str
    model: Any = None
    hparams: Any = None
    datamodule: Any = None

    def __bool__(self) -> bool:
        return any(h is not None for h in (self.model, self.hparams, self.datamodule))

    def read(self) -> Any:
        if self.datamodule is not None:
            return getattr(self.datamodule, self.name)
        if self.hparams is not None:
            return self.hparams[self.name]
        return getattr(self.model, self.name)

    def write(self, value: Any) -> None:
        if self.model is not None:
            setattr(self.model, self.name, value)
        if self.hparams is not None:
            self.hparams[self.name] = value
        if self.datamodule is not None:
            setattr(self.datamodule, self.name, value)

    def describe(self) -> str:
        places = [p for p, h in (("model", self.model), ("model.hparams", self.hparams),
                                 ("datamodule", self.datamodule)) if h is not None]
        return ", ".join(places)


def find_holders(model: Any, datamodule: Any, name: str, warn: bool = False) -> Holders:
    """Every holder of ``name``: ``model.<name>``, ``model.hparams[name]``, ``datamodule.<name>``.

    With ``warn``, log when both the model and its hparams hold the value (both are written).
    """
    holders = Holders(name)
    if name in vars(model) or _class_attr(model, name):
        holders.model = model
    hparams = getattr(model, "hparams", None)
    if hparams is not None and name in hparams:
        holders.hparams = hparams
    if datamodule is not None and hasattr(datamodule, name):
        holders.datamodule = datamodule
    if warn and holders.model is not None and holders.hparams is not None:
        log.warning("Both model.%s and model.hparams.%s exist; the tuner writes the value to both", name, name)
    return holders


def _class_attr(model: Any, name: str) -> bool:
    """A plain class attribute or property (not a method, not a submodule or parameter)."""
    if not hasattr(type(model), name):
        return False
    value = getattr(type(model), name)
    return isinstance(value, property) or not callable(value)


def lr_attr_name(model: Any, datamodule: Any, requested: str | None) -> str:
    """The attribute the LR finder writes: ``requested`` (must exist), else the first of ``lr``/``learning_rate``."""
    if requested:
        if not find_holders(model, datamodule, requested):
            raise MisconfigurationError(
                f"The learning-rate attribute {requested!r} was not found on the model, in model.hparams or on the "
                f"datamodule. Add `self.{requested} = ...` to the model's __init__, or pass the right name "
                "(auto_lr_find=\"name\" or lr_find(attr_name=\"name\")).")
        return requested
    for name in LR_NAMES:
        if find_holders(model, datamodule, name):
            return name
    raise MisconfigurationError(
        "The learning-rate finder needs somewhere to write its suggestion: the model (or model.hparams) has neither "
        "`lr` nor `learning_rate`. Add `self.lr = 1e-3` to __init__ and use it in configure_optimizers, name another "
        "attribute with auto_lr_find=\"my_lr\", or call lr_find(update_attr=False) to only read the curve.")
