"""The sweep file: what to search, how, and for which metric; checked before any trial starts.

Shape::

    metric: val_loss          # default: the monitor of the run's ModelCheckpoint/EarlyStopping
    direction: minimize       # or maximize; default from that callback's mode
    sampler: tpe              # random | grid | tpe
    pruner: none              # none | median | hyperband, or {type: median, n_startup_trials: 2, ...}
    seed: 0                   # optional: the sampler's seed, for a sweep that repeats exactly
    parameters:
      model.lr: {type: float, low: 1.0e-4, high: 1.0e-1, log: true}
      model.hidden: {type: int, low: 16, high: 256, step: 16}
      trainer.accumulate_grad_batches: {type: categorical, choices: [1, 2, 4]}

Parameter names are dotted keys of the run config: ``model.NAME`` is short for ``model.init_args.NAME`` (both
spellings work), ``data.NAME`` is a data-file option (``data: {path: ...}``) or a datamodule's init argument,
``trainer.NAME`` a Trainer flag.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAGS, suggest_flag
from trainer_core.loading.config import DATA_FILE_KEYS, read_yaml_file
from trainer_core.loading.errors import ConfigError

__all__ = ["SweepError", "Parameter", "SweepSpec", "load_sweep", "parse_sweep", "apply_params"]

SAMPLERS = ("random", "grid", "tpe")
PRUNERS = ("none", "median", "hyperband")
DIRECTIONS = ("minimize", "maximize")
_TOP_KEYS = ("metric", "direction", "sampler", "pruner", "seed", "parameters", "study_name")
_PARAM_KEYS = {"float": ("type", "low", "high", "log", "step"), "int": ("type", "low", "high", "log", "step"),
               "categorical": ("type", "choices")}


class SweepError(MisconfigurationError):
    """The sweep file (or its combination with the run config) is wrong; the message names the field."""


@dataclass(frozen=True)
class Parameter:
    """One searched value.

    Attributes:
        name: the dotted key as written in the sweep file (``model.lr``).
        kind: ``float``, ``int`` or ``categorical``.
        low, high: the range (float and int).
        log: sample on a log scale.
        step: grid spacing (int; float for a grid sampler).
        choices: the values of a categorical parameter.
    """

    name: str
    kind: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def grid_values(self) -> list[Any]:
        """Every value a grid sampler visits."""
        if self.kind == "categorical":
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.step is None:
            if self.kind == "int":
                return list(range(int(self.low), int(self.high) + 1))
            raise SweepError(f"parameter {self.name}: the grid sampler needs `step` for a float range (or use "
                             "type: categorical with the values to try).")
        count = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        values = [self.low + i * self.step for i in range(count)]
        return [int(round(v)) for v in values] if self.kind == "int" else [round(v, 12) for v in values]


@dataclass(frozen=True)
class SweepSpec:
    """A checked sweep file. ``metric``/``direction`` may be None until the run's monitor fills them in."""

    parameters: tuple[Parameter, ...]
    metric: str | None = None
    direction: str | None = None
    sampler: str = "tpe"
    pruner: dict[str, Any] = field(default_factory=lambda: {"type": "none"})
    seed: int | None = None
    study_name: str = "sweep"

    def to_dict(self) -> dict[str, Any]:
        """The sweep in its file shape (what the studio writes and ``load_sweep`` reads)."""
        params: dict[str, Any] = {}
        for p in self.parameters:
            if p.kind == "categorical":
                params[p.name] = {"type": "categorical", "choices": list(p.choices)}
            else:
                entry: dict[str, Any] = {"type": p.kind, "low": p.low, "high": p.high}
                if p.log:
                    entry["log"] = True
                if p.step is not None:
                    entry["step"] = p.step
                params[p.name] = entry
        out: dict[str, Any] = {"metric": self.metric, "direction": self.direction, "sampler": self.sampler,
                               "pruner": self.pruner if len(self.pruner) > 1 else self.pruner["type"],
                               "parameters": params}
        if self.seed is not None:
            out["seed"] = self.seed
        if self.study_name != "sweep":
            out["study_name"] = self.study_name
        return {k: v for k, v in out.items() if v is not None}


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and check a sweep file.

    Raises:
        SweepError: the file is missing, not YAML, or a field is wrong (the message names it).
    """
    path = Path(path)
    try:  # the project's hardened reader: bounded size, nesting and alias expansion, YAML 1.2 numbers
        data = read_yaml_file(path, f"the sweep file {path}")
    except FileNotFoundError:
        raise SweepError(f"cannot read the sweep file {path}: it does not exist.") from None
    except ConfigError as err:
        raise SweepError(str(err)) from None
    return parse_sweep(data, str(path))


def parse_sweep(data: Any, source: str = "sweep") -> SweepSpec:
    """Check a sweep given as a dict (the file's shape)."""
    if not isinstance(data, Mapping):
        raise SweepError(f"{source}: expected a mapping with `parameters:` (and metric, direction, sampler, pruner).")
    for key in data:
        if key not in _TOP_KEYS:
            raise SweepError(f"{source}: unknown key `{key}`{_did_you_mean(str(key), _TOP_KEYS)}. Keys: "
                             f"{', '.join(_TOP_KEYS)}.")
    raw_params = data.get("parameters")
    if not isinstance(raw_params, Mapping) or not raw_params:
        raise SweepError(f"{source}: `parameters:` must map at least one dotted key (model.lr, trainer.X, data.X) "
                         "to its range.")
    params = tuple(_parameter(str(name), spec, source) for name, spec in raw_params.items())
    direction = data.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        raise SweepError(f"{source}: direction {direction!r} is not valid: give minimize or maximize.")
    sampler = data.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise SweepError(f"{source}: sampler {sampler!r} is not valid: give one of {', '.join(SAMPLERS)}.")
    metric = data.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric):
        raise SweepError(f"{source}: metric must be the name of a logged metric, such as val_loss.")
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise SweepError(f"{source}: seed must be an integer, not {seed!r}.")
    spec = SweepSpec(parameters=params, metric=metric, direction=direction, sampler=sampler,
                     pruner=_pruner(data.get("pruner", "none"), source), seed=seed,
                     study_name=str(data.get("study_name") or "sweep"))
    if sampler == "grid":
        for p in params:
            p.grid_values()  # raises for a float range without a step
    return spec


def _did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean `{close[0]}`?)" if close else ""


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SweepError(f"{what} must be a finite number, not {value!r}.")
    return float(value)


def _parameter(name: str, raw: Any, source: str) -> Parameter:
    where = f"{source}: parameter {name}"
    if not isinstance(raw, Mapping):
        raise SweepError(f"{where}: give a mapping such as {{type: float, low: 0.001, high: 0.1, log: true}}.")
    kind = raw.get("type")
    if kind not in _PARAM_KEYS:
        raise SweepError(f"{where}: type {kind!r} is not valid: give float, int or categorical.")
    for key in raw:
        if key not in _PARAM_KEYS[kind]:
            hint = _did_you_mean(str(key), _PARAM_KEYS[kind])
            raise SweepError(f"{where}: `{key}` is not a key of a {kind} parameter{hint}; "
                             f"keys: {', '.join(_PARAM_KEYS[kind])}.")
    _check_target(name, source)
    if kind == "categorical":
        choices = raw.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise SweepError(f"{where}: `choices` must list at least two values to choose from (a single value is "
                             "not a search: put it in the run config instead).")
        if len({repr(c) for c in choices}) != len(choices):
            raise SweepError(f"{where}: `choices` lists a value twice.")
        return Parameter(name=name, kind="categorical", choices=tuple(choices))
    if "low" not in raw or "high" not in raw:
        raise SweepError(f"{where}: give both `low` and `high`.")
    low, high = _number(raw["low"], f"{where}: low"), _number(raw["high"], f"{where}: high")
    if low > high:
        raise SweepError(f"{where}: low ({raw['low']}) is greater than high ({raw['high']}).")
    if low == high:
        raise SweepError(f"{where}: the range is empty (low == high == {raw['low']}); widen it, or put the value in "
                         "the run config.")
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise SweepError(f"{where}: log must be true or false.")
    if log and low <= 0:
        raise SweepError(f"{where}: a log range needs low > 0 (got {raw['low']}).")
    step = raw.get("step")
    if step is not None:
        step = _number(step, f"{where}: step")
        if step <= 0:
            raise SweepError(f"{where}: step must be positive.")
        if log:
            raise SweepError(f"{where}: give either log or step, not both (Optuna samples one or the other).")
    if kind == "int":
        for key, value in (("low", raw["low"]), ("high", raw["high"]), ("step", raw.get("step"))):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise SweepError(f"{where}: {key} of an int parameter must be an integer, not {value!r}.")
        return Parameter(name=name, kind="int", low=int(low), high=int(high), log=log,
                         step=None if step is None else int(step))
    return Parameter(name=name, kind="float", low=low, high=high, log=log, step=step)


def _check_target(name: str, source: str) -> None:
    """The dotted key names a section the run config has (model/data init args are checked against the classes
    later, when the script is loaded)."""
    section, _, rest = name.partition(".")
    if section not in ("model", "data", "trainer") or not rest:
        raise SweepError(f"{source}: parameter {name}: give a dotted key starting with model., data. or trainer. "
                         "(model.lr, data.batch_size, trainer.accumulate_grad_batches).")
    key = _init_arg(rest)
    if not key.isidentifier():
        raise SweepError(f"{source}: parameter {name}: `{key}` is not an argument name.")
    if section == "trainer" and key not in FLAGS:
        hint = suggest_flag(key)
        tip = f" Did you mean `trainer.{hint}`?" if hint else ""
        raise SweepError(f"{source}: parameter {name}: `{key}` is not a Trainer flag.{tip}")


def _init_arg(rest: str) -> str:
    return rest[len("init_args."):] if rest.startswith("init_args.") else rest


def _pruner(raw: Any, source: str) -> dict[str, Any]:
    if isinstance(raw, str) or raw is None:
        raw = {"type": raw or "none"}
    if not isinstance(raw, Mapping) or raw.get("type") not in PRUNERS:
        kind = raw.get("type") if isinstance(raw, Mapping) else raw
        raise SweepError(f"{source}: pruner {kind!r} is not valid: give one of {', '.join(PRUNERS)}.")
    allowed = {"none": (), "median": ("n_startup_trials", "n_warmup_steps", "interval_steps"),
               "hyperband": ("min_resource", "max_resource", "reduction_factor")}[raw["type"]]
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in allowed:
            raise SweepError(f"{source}: pruner {raw['type']}: unknown option `{key}`"
                             f"{'; options: ' + ', '.join(allowed) if allowed else ' (it takes none)'}.")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SweepError(f"{source}: pruner option {key} must be a non-negative integer, not {value!r}.")
    return dict(raw)


def apply_params(config: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the run config (``--config`` shape) with the sampled values set at their dotted keys.

    Raises:
        SweepError: a ``data.`` key on a data file that has no such option, or a model/data key without that section.
    """
    out = copy.deepcopy(config)
    for name, value in params.items():
        section, _, rest = name.partition(".")
        key = _init_arg(rest)
        if section == "trainer":
            out.setdefault("trainer", {})[key] = value
            continue
        target = out.get(section)
        if not isinstance(target, dict):
            raise SweepError(f"parameter {name}: the run config has no {section}: section to set it in.")
        if section == "data" and "path" in target:
            if key not in DATA_FILE_KEYS[1:]:
                hint = _did_you_mean(key, DATA_FILE_KEYS)
                raise SweepError(f"parameter {name}: `{key}` is not an option of a data file{hint}; "
                                 f"options: {', '.join(DATA_FILE_KEYS[1:])}.")
            target[key] = value
        else:
            target.setdefault("init_args", {})
            if target["init_args"] is None:
                target["init_args"] = {}
            target["init_args"][key] = value
    return out
