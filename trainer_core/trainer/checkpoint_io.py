"""Checkpoint files: atomic writes, safe loads, and the trainer state that goes in and comes back."""

from __future__ import annotations

import errno
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from trainer_core.exceptions import MisconfigurationError

if TYPE_CHECKING:  # annotations only: the trainer imports this module
    from trainer_core.trainer.trainer import Trainer

__all__ = ["CheckpointError", "save_checkpoint_file", "load_checkpoint_file", "checkpoint_problem",
           "check_resume_state", "module_from_checkpoint", "VERSION_KEY"]

VERSION_KEY = "trainer_core_version"


class CheckpointError(MisconfigurationError):
    """A checkpoint file is missing, corrupt, foreign, or needs unsafe unpickling."""


def save_checkpoint_file(checkpoint: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``checkpoint`` to ``path`` atomically: a temp file in the same folder, fsync, then rename.

    A process killed mid-write leaves the previous file intact and no truncated file under the final name.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(checkpoint, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as err:
        full = isinstance(err, Exception) and _disk_full(err, target.parent)
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        if full:
            raise CheckpointError(_disk_full_message(target)) from err
        raise


def _disk_full(err: Exception, folder: Path) -> bool:
    """Whether a failed write ran out of space: ENOSPC/EDQUOT, or torch's zip writer's RuntimeError ("unexpected
    pos ...") on a disk with (almost) nothing left."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return isinstance(err, RuntimeError) and shutil.disk_usage(folder).free < 1024 * 1024
    except OSError:
        return False


def _disk_full_message(target: Path) -> str:
    mount = target.parent.resolve()
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    try:
        usage = shutil.disk_usage(target.parent)
        sizes = f"{usage.free / 2**20:.1f} MB free of {usage.total / 2**20:.1f} MB"
    except OSError:
        sizes = "size unknown"
    kept = f"the previous {target.name} is unchanged" if target.exists() else "no earlier file was there"
    return (f"checkpoint {str(target)!r} was not saved: the disk mounted at {str(mount)!r} is full ({sizes}); "
            f"{kept}. Free space on that disk, or save checkpoints elsewhere (ModelCheckpoint(dirpath=...) or "
            "default_root_dir)")


def load_checkpoint_file(path: str | os.PathLike[str], map_location: Any = "cpu", trust: bool = False
                         ) -> dict[str, Any]:
    """Load a checkpoint with ``torch.load(weights_only=True)`` unless ``trust`` opts in to full unpickling.

    Raises:
        CheckpointError: missing, unreadable, truncated or foreign files, and files that need full unpickling
            (which could run code) when ``trust`` is False.
    """
    target = Path(path)
    if not target.exists():
        raise CheckpointError(f"checkpoint {str(target)!r} does not exist; check the path")
    if target.is_dir():
        raise CheckpointError(f"checkpoint {str(target)!r} is a folder; give the path of a .ckpt file")
    if target.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {str(target)!r} is empty (0 bytes); it was probably cut off while writing")
    try:
        checkpoint = torch.load(target, map_location=map_location, weights_only=not trust)
    except pickle.UnpicklingError as err:
        if not trust and "weights_only" in str(err):
            raise CheckpointError(
                f"checkpoint {str(target)!r} contains Python objects that need full unpickling, which can run "
                "arbitrary code. Load it only if you trust its source: set trainer.trust_checkpoint = True, pass "
                "Model.load_from_checkpoint(..., trust_checkpoint=True), or add --trust_checkpoint on the command "
                "line") from err
        raise _unreadable(target, err) from err
    except Exception as err:  # noqa: BLE001 - see _unreadable: any reader error means a bad file, not a bug here
        raise _unreadable(target, err) from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        keys = sorted(checkpoint)[:8] if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(
            f"{str(target)!r} is not a trainer checkpoint (no 'state_dict'; found {keys}). Checkpoints come from "
            "Trainer.save_checkpoint or ModelCheckpoint")
    problem = checkpoint_problem(checkpoint)
    if problem:
        raise CheckpointError(
            f"checkpoint {str(target)!r} is damaged: {problem}. It was not written by Trainer.save_checkpoint as "
            "it is; choose another checkpoint file")
    return checkpoint


def _unreadable(target: Path, err: BaseException) -> CheckpointError:
    """The error for a file torch could not read, whatever torch raised.

    torch's readers fail on foreign bytes with whatever their parser hits first: ``IndexError: pop from empty
    list`` from the unpickler on a text file, ``KeyError``/``TypeError``/``struct.error``/``UnicodeDecodeError``
    on damaged records, ``RuntimeError``/``zipfile.BadZipFile`` on a truncated archive. None of these is a bug
    in the caller, so all of them become one message naming the file.
    """
    detail = " ".join(f"{type(err).__name__}: {err}".split())
    if len(detail) > 200:  # a reader's message can quote kilobytes of the file
        detail = detail[:200] + "..."
    return CheckpointError(
        f"checkpoint {str(target)!r} could not be read ({detail}); the file is corrupt, truncated or not a PyTorch "
        "checkpoint. Choose another checkpoint file (a run's checkpoints folder holds the ones it saved)")


def module_from_checkpoint(cls: type, checkpoint_path: str | os.PathLike[str], *, map_location: Any, strict: bool,
                           trust: bool, overrides: dict[str, Any]) -> Any:
    """``cls`` built from a checkpoint's hyper-parameters (``overrides`` win) with its weights loaded.

    Raises:
        CheckpointError: the file does not load (see :func:`load_checkpoint_file`), its hyper-parameters are not
            arguments of ``cls``, or its weights do not fit the model ``cls`` builds from them.
    """
    checkpoint = load_checkpoint_file(checkpoint_path, map_location=map_location or "cpu", trust=trust)
    hparams = dict(checkpoint.get("hyper_parameters") or {})
    if _takes_one_namespace(cls, hparams):  # 0.x-1.2 ``__init__(self, hparams)``: rebuilt as 1.x did
        from trainer_core.hparams import AttributeDict

        hparams = {"hparams": AttributeDict(hparams)}
    hparams.update(overrides)
    unknown = _unknown_arguments(cls, hparams)
    if unknown:
        raise CheckpointError(
            f"checkpoint {str(checkpoint_path)!r} stores hyper-parameters {unknown} that {cls.__name__}.__init__ "
            "does not take. Was it saved from another model? Load it with that model's class, or pass the "
            "arguments to keep as keyword arguments of load_from_checkpoint")
    model = cls(**hparams)
    model.on_load_checkpoint(checkpoint)
    try:
        model.load_state_dict(checkpoint["state_dict"], strict=strict)
    except RuntimeError as err:
        detail = " ".join(str(err).split())
        raise CheckpointError(
            f"checkpoint {str(checkpoint_path)!r} does not fit {cls.__name__}: "
            f"{detail if len(detail) <= 300 else detail[:300] + '...'}. Was it saved from another model or with "
            "other constructor arguments?") from err
    return model


def _takes_one_namespace(cls: type, hparams: dict[str, Any]) -> bool:
    """Whether ``cls.__init__`` takes the hyper-parameters as one ``hparams`` object (Namespace or dict).

    Old modules do ``def __init__(self, hparams): self.hparams = hparams`` (or ``save_hyperparameters(hparams)``):
    the checkpoint then holds the Namespace's fields, which are not arguments of ``__init__``.
    """
    import inspect

    try:
        names = [p.name for p in inspect.signature(cls.__init__).parameters.values()]
    except (TypeError, ValueError):
        return False
    return "hparams" in names and "hparams" not in hparams and bool(_unknown_arguments(cls, hparams))


def _unknown_arguments(cls: type, hparams: dict[str, Any]) -> list[str]:
    """Names in ``hparams`` that ``cls.__init__`` would reject (none when it takes ``**kwargs``)."""
    import inspect

    try:
        parameters = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):  # a signature Python cannot read: let the call itself decide
        return []
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return []
    names = {p.name for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                      inspect.Parameter.KEYWORD_ONLY)}
    return sorted(key for key in hparams if key not in names)


# The loop counters a checkpoint's "loops" entry may hold, with their types (trainer.state.LoopProgress).
_COUNTERS = ("current_epoch", "global_step", "batches_that_stepped", "total_batch_idx", "batches_done_in_epoch")
_FLAGS = ("epoch_finished", "epoch_schedulers_stepped")


def checkpoint_problem(checkpoint: dict[str, Any]) -> str | None:
    """What is wrong with the entries of a loaded checkpoint that resuming reads; None when they are well-formed.

    A file that unpickles can still hold entries of the wrong type (a bit flip in a key, another program's dict):
    resuming from it would fail deep inside the optimizer or the RNG with an error that does not name the file, or
    worse, train on from nonsense. Only entries the engine reads are checked, so checkpoints with extra entries
    (Lightning's own, a user's ``on_save_checkpoint`` additions) still load.
    """
    state_dict = checkpoint["state_dict"]
    if not isinstance(state_dict, dict):
        return f"'state_dict' is a {type(state_dict).__name__}, not a dict of tensors"
    for key, value in state_dict.items():
        if not isinstance(key, str):
            return f"'state_dict' has a key {key!r} that is not a parameter name"
        if not isinstance(value, torch.Tensor) and not key.endswith("_extra_state"):
            return f"'state_dict' entry {key!r} is a {type(value).__name__}, not a tensor"
    for key in ("epoch", "global_step"):
        if key in checkpoint and not _is_count(checkpoint[key]):
            return f"{key!r} is {_short(repr(checkpoint[key]))}, not a count"
    hparams = checkpoint.get("hyper_parameters")
    if hparams is not None and (not isinstance(hparams, dict) or not all(isinstance(k, str) for k in hparams)):
        return "'hyper_parameters' is not a dict of argument names"
    return _training_state_problem(checkpoint)


def _training_state_problem(checkpoint: dict[str, Any]) -> str | None:
    # Present means it is read: None is as wrong as any other non-list (the restore iterates it).
    optimizers = checkpoint.get("optimizer_states")
    if "optimizer_states" in checkpoint:
        if not isinstance(optimizers, list):
            return "'optimizer_states' is not a list"
        for i, state in enumerate(optimizers):
            if not (isinstance(state, dict) and isinstance(state.get("state"), dict)
                    and isinstance(state.get("param_groups"), list)
                    and all(isinstance(g, dict) and isinstance(g.get("params"), list)
                            and all(_is_count(p) for p in g["params"]) for g in state["param_groups"])):
                return f"optimizer state {i} is not an optimizer's state_dict (state, param_groups)"
    for key in ("lr_schedulers",):
        value = checkpoint.get(key)
        if key in checkpoint and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return f"{key!r} is not a list of state dicts"
    for key in ("callbacks", "native_amp_scaling_state"):
        value = checkpoint.get(key)
        if key in checkpoint and not isinstance(value, dict):
            return f"{key!r} is a {type(value).__name__}, not a dict"
    loops = checkpoint.get("loops")
    if loops is None:
        return None
    if not isinstance(loops, dict):
        return f"'loops' is a {type(loops).__name__}, not a dict"
    for key in _COUNTERS:
        if key in loops and not _is_count(loops[key]):
            return f"loop counter {key!r} is {_short(repr(loops[key]))}, not a count"
    for key in _FLAGS:
        if key in loops and not isinstance(loops[key], bool):
            return f"loop flag {key!r} is {_short(repr(loops[key]))}, not True/False"
    rng = loops.get("rng")
    if rng is None:
        return None
    if not isinstance(rng, dict):
        return "the saved random number generator state is not a dict"
    if not isinstance(rng.get("current"), dict):  # resuming always restores it; epoch_start may be None
        return "the saved random number generator state has no 'current' state"
    for moment in ("current", "epoch_start"):
        if rng.get(moment) is not None:
            problem = _rng_problem(rng[moment])
            if problem:
                return f"the saved random number generator state ({moment}) {problem}"
    return None


def _rng_problem(state: Any) -> str | None:
    """Try the state on private generators (never the global ones), so a broken one is refused before training."""
    import random

    import numpy as np

    if not isinstance(state, dict):
        return "is not a dict"
    try:
        if "torch" in state:
            torch.Generator().set_state(state["torch"])
        if "python" in state:
            version, internal, gauss = state["python"]
            random.Random().setstate((version, tuple(internal), gauss))
        if "numpy" in state:
            kind, keys, pos, has_gauss, cached = state["numpy"]
            np.random.RandomState().set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))
    except Exception as err:  # noqa: BLE001 - each library rejects a bad state with its own error type
        return f"does not restore ({type(err).__name__}: {_short(str(err))})"
    return None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:60] + "..."


def check_resume_state(trainer: Trainer, checkpoint: dict[str, Any], path: str) -> None:
    """Refuse optimizer, scheduler and callback states whose values do not have the types the live objects use.

    ``Optimizer.load_state_dict`` takes any value for a hyper-parameter, so an ``lr`` of None or a string from a
    damaged file would only fail at the first step, far from the file. Each loaded value is compared with the
    live object's own state: a number must stay a number, a tensor a tensor, a list a list.

    Raises:
        CheckpointError: naming the file and the first entry of the wrong type.
    """
    problem = _resume_state_problem(trainer, checkpoint)
    if problem:
        raise CheckpointError(f"checkpoint {path!r} cannot be resumed from: {problem}. Choose another checkpoint "
                              "file, or start a new fit from its weights with Model.load_from_checkpoint")


def _resume_state_problem(trainer: Trainer, checkpoint: dict[str, Any]) -> str | None:
    for i, (optimizer, state) in enumerate(zip(trainer.optimizers, checkpoint.get("optimizer_states") or [])):
        live_groups, groups = optimizer.state_dict()["param_groups"], state["param_groups"]
        if len(groups) != len(live_groups):
            return f"optimizer {i} has {len(groups)} parameter group(s) saved but {len(live_groups)} now"
        for g, (live, saved) in enumerate(zip(live_groups, groups)):
            if len(saved["params"]) != len(live["params"]):
                return f"optimizer {i} group {g} has {len(saved['params'])} parameters saved, {len(live['params'])} now"
            problem = _mismatch({k: v for k, v in live.items() if k != "params"}, saved, f"optimizer {i} group {g}")
            if problem:
                return problem
            # Options left at None (foreach, fused...) are switches: a saved tensor or list there is damage.
            for key in (k for k, v in live.items() if v is None and saved.get(k) is not None):
                if not isinstance(saved[key], (bool, int, float, str)):
                    return f"optimizer {i} group {g} {key!r} is {_short(repr(saved[key]))}, not an option value"
        for key, entry in state["state"].items():
            values = entry.values() if isinstance(entry, dict) else [None]
            if not all(isinstance(v, (torch.Tensor, int, float)) for v in values):
                return f"optimizer {i} state of parameter {key!r} is not a dict of tensors and numbers"
    for i, (config, state) in enumerate(zip(trainer.lr_schedulers, checkpoint.get("lr_schedulers") or [])):
        problem = _mismatch(config["scheduler"].state_dict(), state, f"scheduler {i}")
        if problem:
            return problem
    saved_callbacks = checkpoint.get("callbacks") or {}
    for callback in trainer.callbacks:
        saved = saved_callbacks.get(callback.state_key)
        if saved is not None and hasattr(callback, "state_dict"):
            problem = _mismatch(callback.state_dict(), saved, f"callback {callback.state_key}")
            if problem:
                return problem
    return None


def _mismatch(live: Any, saved: Any, where: str) -> str | None:
    """Where ``saved`` differs in kind from ``live`` (None: they agree, or ``live`` gives no kind to compare)."""
    if live is None:
        return None
    if isinstance(live, bool):
        good = isinstance(saved, bool)
    elif isinstance(live, (int, float)):
        good = isinstance(saved, (int, float)) and not isinstance(saved, bool)
    elif isinstance(live, str):
        good = isinstance(saved, str)
    elif isinstance(live, torch.Tensor):
        good = isinstance(saved, torch.Tensor)
    elif isinstance(live, dict):
        if not isinstance(saved, dict):
            return f"{where} is {_short(repr(saved))}, not a dict"
        for key in live.keys() & saved.keys():
            problem = _mismatch(live[key], saved[key], f"{where} {key!r}")
            if problem:
                return problem
        missing = sorted(str(k) for k in live.keys() - saved.keys())
        return f"{where} lacks {missing}" if missing and where.startswith(("optimizer", "scheduler")) else None
    elif isinstance(live, (list, tuple)):
        if not isinstance(saved, (list, tuple)):
            return f"{where} is {_short(repr(saved))}, not a list"
        for j, (a, b) in enumerate(zip(live, saved)):
            problem = _mismatch(a, b, f"{where}[{j}]")
            if problem:
                return problem
        return None
    else:  # a callable or another object: state_dict() leaves those out, nothing to compare
        return None
    return None if good else f"{where} is {_short(repr(saved))}, not a {type(live).__name__}"
