"""Build the user's model and datamodule from a run spec, checking constructor arguments first.

Used by :func:`trainer_core.runner.execute` and by ``--print_config`` (which fills in the class name and the
constructor defaults).
"""

from __future__ import annotations

import difflib
import inspect
import typing
from typing import TYPE_CHECKING, Any

from trainer_core.loading.config import DATA_FILE_KEYS
from trainer_core.loading.errors import DataError, ScriptError
from trainer_core.loading.script import import_script, pick_class

if TYPE_CHECKING:
    from trainer_core.loading.spec import RunSpec

__all__ = ["load_classes", "build_model", "build_datamodule", "check_init_args", "init_defaults"]


def load_classes(spec: RunSpec) -> tuple[type, type | None]:
    """The LightningModule class and (for a script data source) the LightningDataModule class of ``spec``.

    A script named for both is imported once, so the two classes come from the same module.
    """
    from trainer_core.datamodule import LightningDataModule
    from trainer_core.module import LightningModule

    modules: dict[str, Any] = {}

    def module_of(path: str) -> Any:
        if path not in modules:
            modules[path] = import_script(path)
        return modules[path]

    model_cls = pick_class(module_of(spec.model_script), LightningModule, spec.model_class, path=spec.model_script,
                           option="--model")
    dm_cls = None
    if spec.data and spec.data.get("script"):
        script = spec.data["script"]
        dm_cls = pick_class(module_of(script), LightningDataModule, spec.data.get("class"), path=script,
                            option="--data")
    return model_cls, dm_cls


def _parameters(cls: type) -> tuple[list[inspect.Parameter], bool]:
    """The constructor's named parameters and whether it takes ``**kwargs``."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return named, any(p.kind == p.VAR_KEYWORD for p in params)


def _annotation(cls: type, param: inspect.Parameter) -> Any:
    try:
        return typing.get_type_hints(cls.__init__).get(param.name, param.annotation)
    except Exception:  # noqa: BLE001 - unresolvable string annotations: fall back to the raw text
        return param.annotation


def _coerce(value: Any, annotation: Any) -> Any:
    """Match simple annotations: ``--model.name 123`` for ``name: str`` stays a string, ints become floats."""
    if annotation in (str, "str") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if annotation in (float, "float") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _describe(params: list[inspect.Parameter]) -> str:
    shown = [p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in params]
    return ", ".join(shown) or "none"


def check_init_args(cls: type, args: dict[str, Any], *, path: str, option: str) -> dict[str, Any]:
    """``args`` checked against ``cls.__init__`` and coerced to simple annotations.

    Raises:
        ScriptError: an argument the constructor does not take (with the closest name) or a required one missing.
    """
    params, var_kw = _parameters(cls)
    names = [p.name for p in params]
    for name in args:
        if name not in names and not var_kw:
            close = difflib.get_close_matches(name, names, n=1)
            tip = f" Did you mean `{close[0]}`?" if close else ""
            raise ScriptError(f"{cls.__name__} (in {path}) takes no argument `{name}`.{tip} Its arguments: "
                              f"{_describe(params)}.", path=path)
    missing = [p.name for p in params if p.default is p.empty and p.name not in args]
    if missing:
        example = " ".join(f"{option}.{n} VALUE" for n in missing)
        raise ScriptError(f"{cls.__name__} (in {path}) needs a value for {', '.join(f'`{n}`' for n in missing)}: "
                          f"pass {example} (in a config file: init_args).", path=path)
    by_name = {p.name: p for p in params}
    return {k: _coerce(v, _annotation(cls, by_name[k])) if k in by_name else v for k, v in args.items()}


def init_defaults(cls: type) -> dict[str, Any]:
    """The constructor defaults that a YAML file can hold (numbers, strings, booleans, None, lists, dicts)."""

    def plain(value: Any) -> bool:
        if value is None or isinstance(value, (bool, int, float, str)):
            return True
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        return False

    params, _ = _parameters(cls)
    return {p.name: (list(p.default) if isinstance(p.default, tuple) else p.default)
            for p in params if p.default is not p.empty and plain(p.default)}


def build_model(spec: RunSpec, cls: type) -> Any:
    """Instantiate the LightningModule with the spec's (checked) constructor arguments."""
    args = check_init_args(cls, dict(spec.model_init_args), path=spec.model_script, option="--model")
    return cls(**args)


def _num_classes(model: Any) -> int | None:
    for source in (model, getattr(model, "hparams", None) or {}):
        value = source.get("num_classes") if isinstance(source, dict) else getattr(source, "num_classes", None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def build_datamodule(spec: RunSpec, dm_cls: type | None, model: Any) -> Any:
    """The datamodule for the spec's data source: a user class, a :class:`FileDataModule`, or None."""
    data = spec.data
    if not data:
        return None
    if dm_cls is not None:
        args = check_init_args(dm_cls, dict(data.get("init_args") or {}), path=data["script"], option="--data")
        return dm_cls(**args)
    from trainer_core.loading.datamodule import FileDataModule

    # None (or an empty init_args) means "the default": callers may send every key, set or not.
    options = {k: v for k, v in data.items() if k != "path" and v is not None and not (k == "init_args" and not v)}
    for key in options:
        if key not in DATA_FILE_KEYS:
            close = difflib.get_close_matches(key, DATA_FILE_KEYS, n=1)
            tip = f" Did you mean `{close[0]}`?" if close else ""
            raise DataError(f"`{key}` is not an option of a data file.{tip} Options: {', '.join(DATA_FILE_KEYS[1:])}.",
                            path=str(data["path"]))
    if options.get("num_classes") is None:
        options["num_classes"] = _num_classes(model)  # so labels out of the model's range are caught up front
    datamodule = FileDataModule(data["path"], **options)
    datamodule.setup()  # read the file now: a missing or malformed file is reported before the run starts
    return datamodule
