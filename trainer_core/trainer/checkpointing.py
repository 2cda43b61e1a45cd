"""What a checkpoint holds, and putting it back: weights, optimizers, schedulers, scaler, callbacks, counters."""

from __future__ import annotations

import dataclasses
import logging
import warnings
from typing import TYPE_CHECKING, Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.trainer.checkpoint_io import VERSION_KEY, check_resume_state, load_checkpoint_file

if TYPE_CHECKING:
    from trainer_core.trainer.trainer import Trainer

__all__ = ["dump_checkpoint", "restore_optimization_state", "restore_training_state", "restore_weights",
           "plain_hparams"]

log = logging.getLogger("trainer_core")

_PLAIN = (int, float, str, bool, type(None))


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PLAIN) or isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _is_plain(v) for k, v in value.items())
    return False


def plain_hparams(hparams: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Hyper-parameters that load with ``weights_only=True``; names of the ones left out (objects)."""
    kept, dropped = {}, []
    for key, value in hparams.items():
        if _is_plain(value):
            kept[key] = list(value) if isinstance(value, tuple) else value
        else:
            dropped.append(key)
    return kept, dropped


def dump_checkpoint(trainer: Trainer, weights_only: bool = False) -> dict[str, Any]:
    from trainer_core import __version__
    from trainer_core.seed import capture_rng_state

    module = trainer.lightning_module
    hparams, dropped = plain_hparams(dict(module.hparams))
    checkpoint: dict[str, Any] = {
        "epoch": trainer.current_epoch,
        "global_step": trainer.global_step,
        VERSION_KEY: __version__,
        "state_dict": module.state_dict(),
        "hparams_name": "hparams",
        "hyper_parameters": hparams,
    }
    if dropped:
        checkpoint["hparams_not_saved"] = dropped
    if not weights_only:
        progress = dataclasses.asdict(trainer.progress)
        # RNG at save time (resume continues from here) and at the epoch's start (to replay its data order).
        progress["rng"] = {"current": capture_rng_state(), "epoch_start": getattr(trainer, "_epoch_start_rng", None)}
        checkpoint["loops"] = progress
        checkpoint["optimizer_states"] = [opt.state_dict() for opt in trainer.optimizers]
        checkpoint["lr_schedulers"] = [config["scheduler"].state_dict() for config in trainer.lr_schedulers]
        scaler_state = trainer.precision_plugin.state_dict()
        if scaler_state:
            checkpoint["native_amp_scaling_state"] = scaler_state
        callback_states: dict[str, Any] = {}
        for cb, state in trainer._hooks.each_callback("on_save_checkpoint", trainer.callbacks, checkpoint):
            if state is None and hasattr(cb, "state_dict"):
                state = cb.state_dict()
            if state:
                callback_states[cb.state_key] = state
        checkpoint["callbacks"] = callback_states
    trainer._hooks.datamodule("on_save_checkpoint", checkpoint)
    trainer._hooks.module("on_save_checkpoint", checkpoint)
    return checkpoint


def load(trainer: Trainer, path: str) -> dict[str, Any]:
    return load_checkpoint_file(path, map_location="cpu", trust=getattr(trainer, "trust_checkpoint", False))


def restore_weights(trainer: Trainer, checkpoint: dict[str, Any], path: str) -> None:
    module = trainer.lightning_module
    trainer._hooks.datamodule("on_load_checkpoint", checkpoint)
    trainer._hooks.module("on_load_checkpoint", checkpoint)
    try:
        module.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as err:
        raise MisconfigurationError(
            f"checkpoint {path!r} does not fit {type(module).__name__}: {str(err).splitlines()[0]}. Was it saved "
            "from another model or with other constructor arguments?") from err


def restore_training_state(trainer: Trainer, checkpoint: dict[str, Any], path: str) -> None:
    """Callback states and loop counters; runs after ``configure_optimizers`` and before ``on_fit_start``.

    The optimizer, scheduler and scaler states wait for :func:`restore_optimization_state`, after ``on_fit_start``.
    """
    if "optimizer_states" not in checkpoint:
        raise MisconfigurationError(
            f"checkpoint {path!r} holds weights only (save_weights_only=True), so training cannot resume from it. "
            "Load the weights with Model.load_from_checkpoint and start a new fit instead")
    states = checkpoint["optimizer_states"]
    if len(states) != len(trainer.optimizers):
        raise MisconfigurationError(
            f"checkpoint {path!r} has {len(states)} optimizer state(s) but configure_optimizers returned "
            f"{len(trainer.optimizers)}")
    callback_states = checkpoint.get("callbacks", {})
    check_resume_state(trainer, {"callbacks": callback_states}, path)
    found: set[str] = set()
    for cb in trainer.callbacks:
        key = next((k for k in (cb.state_key, *getattr(cb, "legacy_state_keys", ())) if k in callback_states), None)
        if key is None:
            continue
        found.add(key)
        state = callback_states[key]
        if state is None:
            continue
        if hasattr(cb, "load_state_dict"):
            cb.load_state_dict(state)
        trainer._hooks.each_callback("on_load_checkpoint", [cb], state)
    absent = sorted(set(callback_states) - found - {cb.state_key for cb in trainer.callbacks})
    if absent:  # 1.5 warns: their state would be dropped silently otherwise
        warnings.warn(f"The checkpoint {path!r} holds the state of callbacks this Trainer does not have: "
                      f"{', '.join(absent)}. That state is not restored; pass the same callbacks to the Trainer to "
                      "resume them too.", UserWarning, stacklevel=2)
    _restore_progress(trainer, checkpoint)


def restore_optimization_state(trainer: Trainer, checkpoint: dict[str, Any], path: str) -> None:
    """Optimizer, scheduler and AMP scaler states; runs after ``on_fit_start``.

    As in 1.5, ``on_fit_start`` comes first so that a callback which added param groups to an optimizer during the
    saved run (``BaseFinetuning``) can add them again: the saved optimizer state only loads into the same layout.
    """
    check_resume_state(trainer, {"optimizer_states": checkpoint["optimizer_states"],
                                 "lr_schedulers": checkpoint.get("lr_schedulers")}, path)
    for optimizer, state in zip(trainer.optimizers, checkpoint["optimizer_states"]):
        optimizer.load_state_dict(state)
        _optimizer_state_to_device(optimizer, trainer.strategy.root_device)
    for config, state in zip(trainer.lr_schedulers, checkpoint.get("lr_schedulers", [])):
        config["scheduler"].load_state_dict(state)
    trainer.precision_plugin.load_state_dict(checkpoint.get("native_amp_scaling_state", {}))


def _restore_progress(trainer: Trainer, checkpoint: dict[str, Any]) -> None:
    loops = checkpoint.get("loops")
    progress = trainer.progress
    if not loops:  # a checkpoint from elsewhere: counters only; resume at the next epoch
        progress.current_epoch = int(checkpoint.get("epoch", 0)) + 1
        progress.global_step = int(checkpoint.get("global_step", 0))
        return
    for field in dataclasses.fields(progress):
        if field.name in loops:
            setattr(progress, field.name, loops[field.name])
    trainer._resume_rng = loops.get("rng")
    if progress.epoch_finished:
        # Saved at the end of an epoch: continue with the next one (stepping epoch schedulers if still due).
        trainer._resume_epoch_end = True
    else:
        trainer._resume_skip_batches = progress.batches_done_in_epoch


def _optimizer_state_to_device(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    if device.type == "cpu":
        return
    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)


def best_or_path(trainer: Trainer, ckpt_path: str | None, stage: str) -> str | None:
    """Resolve ``ckpt_path="best"``/"last" for validate/test/predict."""
    if ckpt_path not in ("best", "last"):
        return ckpt_path
    if trainer.fast_dev_run:
        raise MisconfigurationError(
            f"{stage}(ckpt_path={ckpt_path!r}) is not possible after fast_dev_run, which saves no checkpoints; "
            "pass ckpt_path=None to use the current weights")
    callback = trainer.checkpoint_callback
    if callback is None:
        raise MisconfigurationError(
            f"{stage}(ckpt_path={ckpt_path!r}) needs a ModelCheckpoint callback (enable_checkpointing=True)")
    path = callback.best_model_path if ckpt_path == "best" else callback.last_model_path
    if not path:
        raise MisconfigurationError(
            f"{stage}(ckpt_path={ckpt_path!r}): no checkpoint has been saved yet; run fit first or pass a path")
    return path

