"""The step, epoch-end and dataloader hooks a LightningModule inherits as defaults (1.x ``ModelHooks``/``DataHooks``).

In Lightning 1.5 the base class defines every one of them, so a 1.x module may call
``super().validation_epoch_end(outputs)`` or ``super().training_step_end(out)`` and tools may look the hooks up on the
class. The trainer only calls a hook the module overrides (the dispatcher compares with these functions), so the
defaults cost nothing per step and a module without ``validation_step`` still skips validation.
"""

from __future__ import annotations

from typing import Any

from trainer_core.exceptions import MisconfigurationError

__all__ = ["LoaderHooks", "StepHooks", "defines_loader"]


class LoaderHooks:
    """The dataloader hooks LightningModule and LightningDataModule share: unless overridden, each says it must be
    implemented (1.5's ``DataHooks``); :func:`defines_loader` tells an override from these defaults."""

    def train_dataloader(self) -> Any:
        raise MisconfigurationError(_missing_loader("train"))

    def val_dataloader(self) -> Any:
        raise MisconfigurationError(_missing_loader("val"))

    def test_dataloader(self) -> Any:
        raise MisconfigurationError(_missing_loader("test"))

    def predict_dataloader(self) -> Any:
        raise MisconfigurationError(_missing_loader("predict"))


def defines_loader(obj: Any, name: str) -> bool:
    """Whether ``obj`` (a module or datamodule) really provides the ``name`` loader hook.

    A function assigned on the instance counts, ``obj.val_dataloader = None`` switches it off, and the base
    defaults above do not count.
    """
    instance = getattr(obj, "__dict__", {})
    if name in instance:
        return callable(instance[name])
    impl = getattr(type(obj), name, None)
    return callable(impl) and impl is not getattr(LoaderHooks, name, None)


class StepHooks(LoaderHooks):
    """No-op step and epoch-end hooks, and the dataloader hooks of :class:`LoaderHooks`."""

    def training_step_end(self, step_output: Any) -> Any:
        """Combine the per-device outputs of ``training_step`` (dp); the default hands them on unchanged."""
        return step_output

    def training_epoch_end(self, outputs: Any) -> None:
        """Called with every ``training_step`` output of the epoch when overridden."""

    def validation_step(self, *args: Any, **kwargs: Any) -> Any:
        """One validation batch; without an override the trainer runs no validation."""

    def validation_step_end(self, step_output: Any) -> Any:
        """Combine the per-device outputs of ``validation_step`` (dp); the default hands them on unchanged."""
        return step_output

    def validation_epoch_end(self, outputs: Any) -> None:
        """Called with every ``validation_step`` output of the run when overridden."""

    def test_step(self, *args: Any, **kwargs: Any) -> Any:
        """One test batch; without an override ``trainer.test`` has nothing to run."""

    def test_step_end(self, step_output: Any) -> Any:
        """Combine the per-device outputs of ``test_step`` (dp); the default hands them on unchanged."""
        return step_output

    def test_epoch_end(self, outputs: Any) -> None:
        """Called with every ``test_step`` output of the run when overridden."""


def _missing_loader(kind: str) -> str:
    # 1.5's sentence first: 1.x code matches it with str(e).startswith(...) to tell "not defined" from a real error.
    return (f"`{kind}_dataloader` must be implemented to be used with the Lightning Trainer: define "
            f"{kind}_dataloader() in the module or a LightningDataModule, or pass the loader to the trainer")
