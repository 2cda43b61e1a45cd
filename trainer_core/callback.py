"""The Callback base class: every 1.5 callback hook, each a no-op.

Callbacks receive ``(trainer, pl_module, ...)``. The trainer only calls the hooks a callback overrides (see
``trainer_core.hooks``), so an unused hook costs nothing per step.

Beyond Lightning's hooks there are a few telemetry hooks for tools such as the studio: ``on_lr_find_point``,
``on_batch_size_trial``, ``on_log_metrics``, ``on_profiler_report``, ``on_model_summary`` and
``on_checkpoint_saved``. They are plain hooks
like the others.

Examples:
    >>> class PrintEpoch(Callback):
    ...     def on_train_epoch_end(self, trainer, pl_module):
    ...         print("finished epoch", trainer.current_epoch)
"""

from __future__ import annotations

from typing import Any

from trainer_core.exceptions import MisconfigurationError

__all__ = ["Callback", "CALLBACK_HOOKS"]


class Callback:
    """Base class for callbacks. Override only the hooks you need."""

    @property
    def state_key(self) -> str:
        """Key under which this callback's state is stored in a checkpoint.

        Subclasses with identifying arguments use :meth:`_generate_state_key` so that several instances coexist.
        """
        return self.__class__.__qualname__

    def _generate_state_key(self, **identifying: Any) -> str:
        return f"{self.__class__.__qualname__}{repr(identifying)}"

    # --- logging (1.5 lends the module's self.log to its callbacks) ----------------------------------------
    _logging_module: Any = None  # set by the hook dispatcher when a module is attached

    def log(self, name: str, value: Any, **kwargs: Any) -> None:
        """``pl_module.log`` from inside a hook: same arguments, same per-hook rules."""
        self._module_for_logging(name).log(name, value, **kwargs)

    def log_dict(self, dictionary: Any, **kwargs: Any) -> None:
        """``pl_module.log_dict`` from inside a hook."""
        self._module_for_logging("log_dict").log_dict(dictionary, **kwargs)

    def _module_for_logging(self, what: str) -> Any:
        if self._logging_module is None:
            raise MisconfigurationError(
                f"{type(self).__name__}.log({what!r}) needs a running Trainer: the callback is attached to a module "
                "when fit/validate/test starts; call self.log from inside a callback hook")
        return self._logging_module

    # --- set-up and tear-down -------------------------------------------------------------------------------
    def on_init_start(self, trainer: Any) -> None: ...
    def on_init_end(self, trainer: Any) -> None: ...
    def on_before_accelerator_backend_setup(self, trainer: Any, pl_module: Any) -> None: ...
    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None: ...
    def teardown(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None: ...
    def on_configure_sharded_model(self, trainer: Any, pl_module: Any) -> None: ...

    # --- stages ---------------------------------------------------------------------------------------------
    def on_fit_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_fit_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_pretrain_routine_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_pretrain_routine_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_sanity_check_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_sanity_check_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_train_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_train_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_validation_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_validation_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_test_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_test_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_predict_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_predict_end(self, trainer: Any, pl_module: Any) -> None: ...

    # --- epochs ---------------------------------------------------------------------------------------------
    def on_epoch_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_epoch_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_test_epoch_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_test_epoch_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_predict_epoch_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_predict_epoch_end(self, trainer: Any, pl_module: Any, outputs: list[Any]) -> None: ...

    # --- batches --------------------------------------------------------------------------------------------
    def on_batch_start(self, trainer: Any, pl_module: Any) -> None: ...
    def on_batch_end(self, trainer: Any, pl_module: Any) -> None: ...
    def on_train_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None: ...
    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                           dataloader_idx: int = 0) -> None: ...
    def on_validation_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                                  dataloader_idx: int = 0) -> None: ...
    def on_validation_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                                dataloader_idx: int = 0) -> None: ...
    def on_test_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                            dataloader_idx: int = 0) -> None: ...
    def on_test_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                          dataloader_idx: int = 0) -> None: ...
    def on_predict_batch_start(self, trainer: Any, pl_module: Any, batch: Any, batch_idx: int,
                               dataloader_idx: int = 0) -> None: ...
    def on_predict_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int,
                             dataloader_idx: int = 0) -> None: ...

    # --- optimization ---------------------------------------------------------------------------------------
    def on_before_backward(self, trainer: Any, pl_module: Any, loss: Any) -> None: ...
    def on_after_backward(self, trainer: Any, pl_module: Any) -> None: ...
    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any, opt_idx: int) -> None: ...
    def on_before_zero_grad(self, trainer: Any, pl_module: Any, optimizer: Any) -> None: ...

    # --- checkpoints and errors -----------------------------------------------------------------------------
    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> dict[str, Any] | None:
        """Return this callback's state; it is stored under ``checkpoint["callbacks"][self.state_key]``."""
        return None

    def on_load_checkpoint(self, trainer: Any, pl_module: Any, callback_state: dict[str, Any]) -> None: ...
    def on_keyboard_interrupt(self, trainer: Any, pl_module: Any) -> None: ...
    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None: ...

    # --- telemetry (trainer_core extensions, used by the studio) --------------------------------------------
    def on_log_metrics(self, trainer: Any, pl_module: Any, metrics: dict[str, float], step: int) -> None:
        """Called with the exact payload sent to the loggers (already plain floats)."""

    def on_lr_find_point(self, trainer: Any, pl_module: Any, point: dict[str, float]) -> None:
        """One learning-rate finder point: keys ``step``, ``lr``, ``loss``, ``smoothed_loss``."""

    def on_batch_size_trial(self, trainer: Any, pl_module: Any, trial: dict[str, Any]) -> None:
        """One batch-size trial: keys ``batch_size``, ``fits`` (bool), ``peak_memory`` (bytes or None), ``time_s``."""

    def on_profiler_report(self, trainer: Any, pl_module: Any, stage: str, rows: list[dict[str, Any]]) -> None:
        """The profiler's rows at the end of a stage (keys as ``Profiler.report_rows()``)."""

    def on_model_summary(self, trainer: Any, pl_module: Any, summary: dict[str, Any]) -> None:
        """The weights summary at fit start (``ModelSummaryTable.to_dict()``: rows, totals, size in MB)."""

    def on_checkpoint_saved(self, trainer: Any, pl_module: Any, filepath: str) -> None:
        """A checkpoint file was just written (atomically) by ``trainer.save_checkpoint``."""


def _hook_names() -> tuple[str, ...]:
    skip = {"state_key", "log", "log_dict"}
    return tuple(
        name
        for name, value in vars(Callback).items()
        if callable(value) and not name.startswith("_") and name not in skip
    )


CALLBACK_HOOKS: tuple[str, ...] = _hook_names()
