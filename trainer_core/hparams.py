"""``save_hyperparameters`` / ``hparams``, shared by LightningModule and LightningDataModule."""

from __future__ import annotations

import copy
import inspect
import types
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["AttributeDict", "HyperparametersMixin"]


class AttributeDict(dict):
    """A dict whose keys are also attributes: ``hparams.lr`` and ``hparams["lr"]``."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError as err:
            raise AttributeError(f"hparams has no attribute {key!r}; it has {sorted(self)}") from err

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        del self[key]


class HyperparametersMixin:
    """Collects the constructor arguments of the caller into ``self.hparams``."""

    __jit_unused_properties__ = ["hparams", "hparams_initial"]

    def __init__(self) -> None:
        super().__init__()
        self._log_hyperparams = True

    def save_hyperparameters(self, *args: Any, ignore: str | Iterable[str] | None = None,
                             frame: types.FrameType | None = None, logger: bool = True) -> None:
        """Save constructor arguments to ``self.hparams`` (and to checkpoints and the logger).

        Args:
            *args: nothing (all init arguments), names of arguments to keep, or one dict/Namespace to save.
            ignore: argument names to leave out (for example modules that are passed in).
            frame: the frame to read arguments from (default: the caller's).
            logger: whether the trainer sends them to the logger.
        """
        self._log_hyperparams = logger
        if len(args) == 1 and not isinstance(args[0], str):
            value = args[0]
            params = vars(value) if hasattr(value, "__dict__") and not isinstance(value, Mapping) else dict(value)
            self._set_hparams(params)
            return
        if frame is None:
            current = inspect.currentframe()
            frame = current.f_back if current is not None else None
        init_args = _collect_init_args(frame, self)
        ignored = {ignore} if isinstance(ignore, str) else set(ignore or ())
        if args:
            init_args = {k: v for k, v in init_args.items() if k in args}
        init_args = {k: v for k, v in init_args.items() if k not in ignored}
        self._set_hparams(init_args)

    def _set_hparams(self, params: Mapping[str, Any]) -> None:
        hp = self.__dict__.get("_hparams")
        if hp is None:
            hp = AttributeDict()
            object.__setattr__(self, "_hparams", hp)
        hp.update(params)
        try:
            initial = copy.deepcopy(dict(hp))
        except Exception:  # objects that cannot be copied are kept by reference
            initial = dict(hp)
        object.__setattr__(self, "_hparams_initial", AttributeDict(initial))

    @property
    def hparams(self) -> AttributeDict:
        hp = self.__dict__.get("_hparams")
        if hp is None:
            hp = AttributeDict()
            object.__setattr__(self, "_hparams", hp)
        return hp

    @hparams.setter
    def hparams(self, value: Any) -> None:
        """``self.hparams = hparams``, the 0.x-1.2 way to keep an argparse Namespace or dict (the setter went in 1.3).

        Old scripts still do this in ``__init__(self, hparams)``; the values replace ``hparams`` as they did then,
        and count as the initial hyper-parameters (checkpoints, loggers) unless ``save_hyperparameters`` ran first.
        """
        from trainer_core.utilities.rank_zero import rank_zero_deprecation

        rank_zero_deprecation("`self.hparams = ...` was removed in Lightning 1.3; call "
                              "`self.save_hyperparameters(hparams)` instead", stacklevel=3)
        params = vars(value) if hasattr(value, "__dict__") and not isinstance(value, Mapping) else dict(value)
        had_initial = "_hparams_initial" in self.__dict__
        object.__setattr__(self, "_hparams", AttributeDict())
        initial = self.__dict__.get("_hparams_initial")
        self._set_hparams(params)
        if had_initial:  # 1.2 kept what save_hyperparameters recorded as the initial values
            object.__setattr__(self, "_hparams_initial", initial)

    @property
    def hparams_initial(self) -> AttributeDict:
        return AttributeDict(self.__dict__.get("_hparams_initial", {}))


def _collect_init_args(frame: types.FrameType | None, owner: object) -> dict[str, Any]:
    """Walk up from ``frame`` through the ``__init__`` frames of the object and merge their arguments."""
    collected: dict[str, Any] = {}
    while frame is not None:
        code = frame.f_code
        if code.co_name != "__init__" or frame.f_locals.get("self") is not owner:
            break
        local_vars = frame.f_locals
        spec = inspect.getargvalues(frame)
        names = list(spec.args[1:])
        found = {name: local_vars[name] for name in names if name in local_vars}
        if spec.varargs and local_vars.get(spec.varargs):
            found[spec.varargs] = local_vars[spec.varargs]
        if spec.keywords:
            found.update(local_vars.get(spec.keywords, {}))
        # Outer (subclass) frames win over the base-class frames they call.
        collected = {**found, **collected}
        frame = frame.f_back
    return collected
