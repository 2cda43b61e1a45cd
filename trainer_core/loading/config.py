"""Run configs: the YAML that ``--config`` reads, ``--print_config`` writes and the studio saves.

Shape (every section optional)::

    trainer:            # Trainer flags, same names as the keyword arguments
      max_epochs: 5
    model:
      script: model.py
      class: Net        # optional when the script defines one LightningModule
      init_args: {hidden: 64}
    data:               # a LightningDataModule ...
      script: data.py
      class: MyData
      init_args: {batch_size: 32}
    # ... or a file/folder:   data: {path: data.csv, batch_size: 32, val_split: 0.2, shuffle: true, target: label}
    ckpt_path: last.ckpt
    seed_everything: 42
    tune: {lr_find: true, scale_batch_size: false, lr_find_kwargs: {num_training: 50}}
    debug: fast_dev_run # or overfit_batches

Relative paths in a config file are taken from the file's folder when the file exists there, else from the
current folder. ``model: net.py:Net`` and ``data: data.csv`` are accepted as shorthands.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from trainer_core.flags import FLAGS, suggest_flag
from trainer_core.loading.errors import ConfigError
from trainer_core.loading.script import split_class_ref

__all__ = ["SECTIONS", "load_config", "check_config", "dump_config", "merge_configs", "DATA_FILE_KEYS",
           "read_yaml_file", "dump_yaml"]

SECTIONS = ("trainer", "model", "data", "ckpt_path", "seed_everything", "tune", "debug")
_CLASS_KEYS = ("script", "class", "init_args")
DATA_FILE_KEYS = ("path", "batch_size", "val_split", "shuffle", "seed", "num_workers", "target", "header", "trust",
                  "num_classes")
_TUNE_KEYS = ("lr_find", "scale_batch_size", "lr_find_kwargs", "scale_batch_size_kwargs")
_DEBUG_MODES = ("fast_dev_run", "overfit_batches", "batch_independence")
# YAML 1.1 reads 1e-3 as a string (it wants 1.0e-3); nobody means the string, so numbers like it become floats.
# The fraction is one optional group: `\d+\.?\d*` could split a run of digits two ways at every position, which made
# a 20,000-digit value take 10 s to refuse (quadratic backtracking).
_EXPONENT = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)[eE][-+]?\d+$")


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 numbers: ``1:00:00:00`` (a max_time) stays text instead of becoming the base-60
    integer 216000, and ``1e-3`` is a float."""


_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag not in (_INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Each form needs a digit: "." or "0x_" matched by digit-less patterns crashed the number constructor.
_Loader.add_implicit_resolver(_INT, re.compile(r"^[-+]?(0|[1-9][0-9_]*|0x[0-9a-fA-F][0-9a-fA-F_]*|0b[01][01_]*)$"),
                              list("-+0123456789"))
_Loader.add_implicit_resolver(
    _FLOAT, re.compile(r"^([-+]?([0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)([eE][-+]?[0-9]+)?"
                       r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$"),
    list("-+0123456789."))



class _Dumper(yaml.SafeDumper):
    """SafeDumper that quotes every string ``_Loader`` would read as a number as well as the ones YAML 1.1 would.

    SafeDumper only knows YAML 1.1's numbers, so it wrote the name ``0E0`` bare and ``_Loader`` read it back as the
    float 0.0.
    """


for _first, _resolvers in _Loader.yaml_implicit_resolvers.items():
    for _tag, _regex in _resolvers:
        if _tag in (_INT, _FLOAT):
            _Dumper.add_implicit_resolver(_tag, _regex, [_first])


def dump_yaml(data: Any) -> str:
    """Block-style YAML text that :func:`read_yaml_file` reads back as ``data`` (plain values only).

    Strings that would read back as numbers are quoted; when a character PyYAML writes raw is one its reader takes
    as a line break (U+0085), the text is written with escaped ASCII instead.
    """
    options: dict[str, Any] = {"Dumper": _Dumper, "sort_keys": False, "default_flow_style": False}
    text = yaml.dump(data, allow_unicode=True, **options)
    if yaml.load(text, Loader=_Loader) != data:  # noqa: S506 - a SafeLoader subclass
        # NaN never equals itself, so a NaN value also lands here, harmlessly.
        text = yaml.dump(data, allow_unicode=False, **options)
    return text


def _unknown(key: str, allowed: tuple[str, ...], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, allowed, n=1)
    tip = f" Did you mean `{close[0]}`?" if close else ""
    return ConfigError(f"{where}: unknown key `{key}`.{tip} Accepted keys: {', '.join(allowed)}.")


def _fix_numbers(value: Any) -> Any:
    if isinstance(value, str) and _EXPONENT.match(value.strip()):
        return float(value)
    if isinstance(value, dict):
        return {k: _fix_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fix_numbers(v) for v in value]
    return value


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping of names to values, not {type(value).__name__} {value!r}.")
    return {str(k): v for k, v in value.items()}


def _class_section(value: Any, where: str, *, allow_file: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, str):  # shorthand: "net.py:Net", "data.csv"
        script, cls = split_class_ref(value)
        if script.endswith(".py"):
            return {"script": script, "class": cls, "init_args": {}}
        if allow_file:
            return {"path": value}
        raise ConfigError(f"{where}: `{value}` is not a Python script; give `script.py` or `script.py:ClassName`.")
    section = _mapping(value, where)
    lightning = _lightning_form(section, where)
    if lightning is not None:
        return lightning
    if allow_file and "path" in section:
        # Loader options given in LightningCLI's form (a file section before --data named the file).
        options = _mapping(section.pop("init_args", None), where)
        section = {**section, **options}
        for key in section:
            if key not in DATA_FILE_KEYS:
                raise _unknown(key, DATA_FILE_KEYS, f"{where} (a data file)")
        return section
    for key in section:
        if key not in _CLASS_KEYS:
            allowed = _CLASS_KEYS + (DATA_FILE_KEYS if allow_file else ())
            raise _unknown(key, allowed, where)
    if "script" not in section:
        need = "`script` (a LightningDataModule) or `path` (a data file)" if allow_file else "`script`"
        raise ConfigError(f"{where} needs {need}.")
    script, cls = split_class_ref(str(section["script"]))
    return {"script": script, "class": section.get("class") or cls,
            "init_args": _mapping(section.get("init_args"), f"{where}.init_args")}


def _lightning_form(section: dict[str, Any], where: str) -> dict[str, Any] | None:
    """A section in LightningCLI's form (1.5), in ours; None when it is in ours already.

    ``class_path: package.module.Class`` with ``init_args`` names the class by import path (its module's file
    becomes ``script``); a section with none of our keys holds the init arguments directly, and the script comes
    from the command line (``--model net.py``) or another config file.
    """
    if "class_path" in section:
        for key in section:
            if key not in ("class_path", "init_args"):
                raise _unknown(key, ("class_path", "init_args"), where)
        module, _, class_name = str(section["class_path"]).rpartition(".")
        return {"script": _module_file(module, where), "class": class_name,
                "init_args": _mapping(section.get("init_args"), f"{where}.init_args")}
    if section and not any(key in section for key in (*_CLASS_KEYS, "path")):
        return {"init_args": section}
    return None


def _module_file(module: str, where: str) -> str:
    """The file of an importable module (looked up from the current folder too), for a LightningCLI class_path."""
    import importlib.util
    import sys

    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(module) if module else None
    except (ImportError, ValueError):
        spec = None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise ConfigError(f"{where}: class_path names module `{module}`, which cannot be found from "
                          f"{os.getcwd()}; run from the folder that holds it, or give `script: FILE.py` and `class`.")
    return spec.origin


def check_config(config: Any, source: str = "config") -> dict[str, Any]:
    """Check a config's shape and expand shorthands; return the normalised dict.

    Raises:
        ConfigError: an unknown section or key (with a suggestion), a misspelled Trainer flag (suggesting the real
            name), or a section of the wrong type.
    """
    top = _mapping(config, source)
    for key in top:
        if key not in SECTIONS:
            raise _unknown(key, SECTIONS, source)
    out: dict[str, Any] = {}
    trainer = _mapping(top.get("trainer"), f"{source}, section trainer")
    for name in trainer:
        if name not in FLAGS:
            hint = suggest_flag(name)
            tip = f" Did you mean `{hint}`?" if hint else " Run `trainer-core fit --help` for the list of flags."
            raise ConfigError(f"{source}, section trainer: `{name}` is not a Trainer flag.{tip}")
    out["trainer"] = _fix_numbers(trainer)
    model = _class_section(top.get("model"), f"{source}, section model", allow_file=False)
    if model is not None:
        out["model"] = _fix_numbers(model)
    data = _class_section(top.get("data"), f"{source}, section data", allow_file=True)
    if data is not None:
        out["data"] = _fix_numbers(data)
    if top.get("ckpt_path") is not None:
        out["ckpt_path"] = str(top["ckpt_path"])
    seed = top.get("seed_everything")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"{source}: seed_everything={seed!r} is not valid: give an integer.")
        out["seed_everything"] = seed
    tune = _mapping(top.get("tune"), f"{source}, section tune")
    for key in tune:
        if key not in _TUNE_KEYS:
            raise _unknown(key, _TUNE_KEYS, f"{source}, section tune")
    if tune:
        out["tune"] = _fix_numbers(tune)
    if top.get("debug") is not None:
        if top["debug"] not in _DEBUG_MODES:
            raise ConfigError(f"{source}: debug={top['debug']!r} is not valid: give {' or '.join(_DEBUG_MODES)}.")
        out["debug"] = top["debug"]
    return out


# A run config or hparams.yaml is a few kilobytes; these bounds only stop a wrong or hostile file from stalling a
# run: a 1 GB file read into memory, or anchors whose aliases expand to billions of values ("billion laughs").
MAX_YAML_BYTES = 16 * 1024 * 1024
MAX_YAML_VALUES = 1_000_000
MAX_YAML_DEPTH = 100


def read_yaml_file(path: str | os.PathLike[str], what: str) -> Any:
    """Read a YAML file safely: no Python tags, bounded size, nesting and alias expansion.

    Args:
        path: the file.
        what: how messages name it ("Config file run.yaml").

    Raises:
        FileNotFoundError: the file does not exist (callers word this themselves).
        ConfigError: anything else: unreadable, too big, not UTF-8, not YAML, nested too deeply, or expanding to
            more values than any config holds.
    """
    try:
        size = os.path.getsize(path)
        if size > MAX_YAML_BYTES:
            raise ConfigError(f"{what} is {size / 2**20:.0f} MB; a YAML config or hparams file is at most "
                              f"{MAX_YAML_BYTES // 2**20} MB. Check that the path names the right file.")
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as err:
        raise ConfigError(f"{what} is not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8.") from err
    except OSError as err:
        raise ConfigError(f"{what} cannot be read: {err.strerror or err}.") from err
    too_deep = ConfigError(f"{what} is nested too deeply to read (more than {MAX_YAML_DEPTH} levels); a config "
                           "nests a few levels.")
    # PyYAML's scanner slows down quadratically with [ and { nesting before it hits Python's recursion limit.
    if _flow_depth(text) > MAX_YAML_DEPTH:
        raise too_deep
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"{what}{where}: not valid YAML ({problem}).") from err
    except RecursionError as err:
        raise too_deep from err
    except (ValueError, TypeError, OverflowError) as err:  # a constructor choking on a value the resolver let by
        raise ConfigError(f"{what}: not valid YAML ({type(err).__name__}: {err}).") from err
    if _count_values(raw, MAX_YAML_VALUES) > MAX_YAML_VALUES:
        raise ConfigError(f"{what} expands to more than {MAX_YAML_VALUES:,} values (anchors and aliases that "
                          "repeat each other); write the values out instead.")
    return raw


def _flow_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in ``text`` (brackets inside quotes count too: an over-estimate)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _count_values(value: Any, budget: int) -> int:
    """Values in a loaded document, counting an aliased value each time it appears; stops past ``budget``."""
    count, stack = 0, [value]
    while stack and count <= budget:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _resolve(path: str, base: Path) -> str:
    if os.path.isabs(path) or path in ("best", "last"):
        return path
    beside = base / path
    # os.path.exists, not Path.exists: a name the system cannot even look up (longer than 255 bytes, a NUL byte) is
    # "not there" and reaches the loader that names it, instead of escaping as "OSError: File name too long".
    return str(beside) if os.path.exists(beside) else path


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a YAML config file (see the module docstring for its shape).

    Raises:
        ConfigError: the file is missing, unreadable, not YAML, or has a bad shape.
    """
    shown = str(path)
    try:
        raw = read_yaml_file(path, f"Config file {shown}")
    except FileNotFoundError as err:
        raise ConfigError(f"Config file {shown} does not exist.") from err
    config = check_config(raw, shown)
    base = Path(path).resolve().parent
    for section in ("model", "data"):
        for key in ("script", "path"):
            if section in config and config[section].get(key):
                config[section][key] = _resolve(str(config[section][key]), base)
    if "ckpt_path" in config:
        config["ckpt_path"] = _resolve(config["ckpt_path"], base)
    return config


def merge_configs(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``: sections merge key by key, ``init_args`` too; a new model script or data
    source replaces the old one (its arguments belonged to the old class)."""
    out: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for key, value in override.items():
        if key in ("model", "data") and isinstance(value, dict) and isinstance(out.get(key), dict):
            old = out[key]
            # A section holding only init_args (LightningCLI's form) takes the script given later.
            sourced = any(old.get(k) is not None for k in ("script", "path"))
            switched = sourced and any(value.get(k) is not None and value.get(k) != old.get(k)
                                       for k in ("script", "path", "class"))
            if switched:
                out[key] = dict(value)
                continue
            merged = {**old, **{k: v for k, v in value.items() if k != "init_args" and v is not None}}
            if "init_args" in old or "init_args" in value:
                merged["init_args"] = {**old.get("init_args", {}), **value.get("init_args", {})}
            out[key] = merged
        elif key in ("trainer", "tune") and isinstance(value, dict):
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


def _plain(value: Any) -> Any:
    """Turn tuples and other YAML-unfriendly containers into plain lists/dicts; objects into their repr."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "__fspath__"):
        return os.fspath(value)
    if hasattr(value, "total_seconds"):  # timedelta (max_time)
        return {"seconds": value.total_seconds()}
    return repr(value)


def dump_config(config: Mapping[str, Any]) -> str:
    """The config as YAML text, sections in the documented order."""
    ordered = {key: _plain(config[key]) for key in SECTIONS if key in config and config[key] not in (None, {})}
    return yaml.safe_dump(ordered, sort_keys=False, default_flow_style=False)
