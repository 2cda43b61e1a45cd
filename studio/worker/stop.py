"""The graceful-stop callback the worker gives every run; it lives in the engine, where sweep trials use it too."""

from trainer_core.callbacks.stop_on_request import StopOnRequest, stop_checkpoint_in

__all__ = ["StopOnRequest", "stop_checkpoint_in"]
