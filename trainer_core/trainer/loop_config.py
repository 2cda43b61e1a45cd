"""Checks of how a fit's loops are configured, made once when the fit starts (never per step).

1.5 warns when validation data and ``validation_step`` do not come in pairs: a script that passes a validation loader
to ``fit`` but never wrote ``validation_step`` (a recommender passing ``fit(model, train_dl, val_dl)``) otherwise
trains without any validation and without a word about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from trainer_core.step_hooks import defines_loader
from trainer_core.utilities.rank_zero import rank_zero_warn

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["warn_unpaired_validation"]


def _has_val_loader(trainer: Trainer) -> bool:
    """Whether validation data comes from fit's arguments, the datamodule or the module (without building it)."""
    if trainer._given_loaders.get("val_dataloaders") is not None:
        return True
    dm = trainer.datamodule
    if dm is not None and defines_loader(dm, "val_dataloader"):
        return True
    return trainer._hooks.module_overrides("val_dataloader")


def warn_unpaired_validation(trainer: Trainer) -> None:
    """Warn (as 1.5 does) when a fit has validation data but no ``validation_step``, or the reverse.

    The hooks must already be resolved for the fit (``trainer._hooks.rebuild``).
    """
    has_step = trainer._hooks.module_overrides("validation_step")
    has_loader = _has_val_loader(trainer)
    if has_loader and not has_step:
        rank_zero_warn("You passed in a `val_dataloader` but have no `validation_step`. Skipping val loop. "
                       "Define `validation_step(self, batch, batch_idx)` in the LightningModule to validate.")
    elif has_step and not has_loader:
        rank_zero_warn("You defined a `validation_step` but have no `val_dataloader`. Skipping val loop. "
                       "Pass `val_dataloaders=` to fit, or define `val_dataloader()` in the module or datamodule.")
