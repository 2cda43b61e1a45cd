"""GradientAccumulationScheduler: change ``accumulate_grad_batches`` by epoch.

``Trainer(accumulate_grad_batches={epoch: k})`` adds one of these; epochs are 0-based and ``{0: 1}`` is implied.
The factor for epoch ``e`` is the value of the largest key ``<= e``.
"""

from __future__ import annotations

from typing import Any

from trainer_core.callback import Callback
from trainer_core.exceptions import MisconfigurationError

__all__ = ["GradientAccumulationScheduler"]


class GradientAccumulationScheduler(Callback):
    """Set the trainer's accumulation factor at the start of every training epoch.

    Args:
        scheduling: ``{epoch: factor}``; keys (0-based epochs) and factors are integers, factors >= 1.

    Raises:
        TypeError: the dict is empty, or a key or value is not an integer.
        IndexError: a key is negative.

    Examples:
        >>> scheduler = GradientAccumulationScheduler({4: 2, 8: 4})
        >>> [scheduler.get_accumulate_grad_batches(e) for e in (0, 4, 7, 8, 20)]
        [1, 2, 2, 4, 4]
    """

    def __init__(self, scheduling: dict[int, int]) -> None:
        if not isinstance(scheduling, dict) or not scheduling:
            raise TypeError(
                f"GradientAccumulationScheduler needs a non-empty dict {{epoch: factor}}, got {scheduling!r}."
            )
        for epoch, factor in scheduling.items():
            if not _is_int(epoch) or not _is_int(factor):
                raise TypeError(
                    f"GradientAccumulationScheduler: epochs and accumulation factors must be integers, got "
                    f"{epoch!r}: {factor!r} in {scheduling!r}."
                )
        lowest = min(scheduling)
        if lowest < 0:
            raise IndexError(
                f"GradientAccumulationScheduler: epoch {lowest} in {scheduling!r} cannot be used; epochs are "
                "0-based, so keys must be >= 0."
            )
        bad = {e: f for e, f in scheduling.items() if f < 1}
        if bad:
            raise ValueError(
                f"GradientAccumulationScheduler: accumulation factors must be >= 1, got {bad!r} in {scheduling!r}."
            )
        # A copy: the user's dict is left untouched while {0: 1} is implied for the first epochs.
        self.scheduling: dict[int, int] = {0: 1, **scheduling} if lowest != 0 else dict(scheduling)
        self.epochs = sorted(self.scheduling)

    def going_to_accumulate_grad_batches(self) -> bool:
        """Whether any epoch accumulates more than one batch."""
        return any(factor > 1 for factor in self.scheduling.values())

    def get_accumulate_grad_batches(self, epoch: int) -> int:
        """The factor in force in (0-based) ``epoch``."""
        factor = 1
        for start in self.epochs:
            if start > epoch:
                break
            factor = self.scheduling[start]
        return factor

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        # Two sources of the factor would silently fight each epoch; 1.5 refuses the pair (a dict flag is how the
        # trainer builds this callback itself, so only an int flag clashes).
        given = getattr(trainer, "_init_flags", {}).get("accumulate_grad_batches")
        if isinstance(given, int) and not isinstance(given, bool):
            raise MisconfigurationError(
                f"Trainer(accumulate_grad_batches={given}) and a GradientAccumulationScheduler callback both set the "
                "accumulation factor. Remove accumulate_grad_batches from the Trainer, or remove the callback "
                "(Trainer(accumulate_grad_batches={epoch: factor}) schedules it by epoch).")

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        trainer.accumulate_grad_batches = self.get_accumulate_grad_batches(int(trainer.current_epoch))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
