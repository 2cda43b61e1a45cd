"""The Trainer flag schema as the studio reads it (studio/flag_schema.json, generated from trainer_core.flags).

The GUI never imports trainer_core, so it reads the JSON copy: groups, flags with kinds/defaults/choices/help. This
module also turns what the user typed into a value and checks it against the flag's kinds and choices, so an
obviously wrong value blocks launch with a clear message (the engine validates again in the child).

Examples:
    >>> schema = FlagSchema.load()
    >>> schema.parse("max_epochs", "5")
    5
"""

from __future__ import annotations

import ast
import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.models.flag_formats import format_problem

__all__ = ["FlagSpec", "FlagSchema", "FlagError", "SCHEMA_PATH", "OBJECT_FLAGS", "is_object_config", "kind_of",
           "describe_object_config"]

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "flag_schema.json"

# The flags whose objects a config may name as {"class_path": ..., "init_args": {...}} (the engine builds them:
# trainer_core.loading.objects; a test keeps the two lists equal).
OBJECT_FLAGS = ("callbacks", "logger", "profiler", "plugins")


def is_object_config(value: Any) -> bool:
    """Whether ``value`` names objects by class path: one ``{"class_path": ...}`` mapping or a list of them."""
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(isinstance(item, dict) and isinstance(item.get("class_path"), str) for item in items)


def describe_object_config(value: Any) -> str:
    """``CSVLogger(save_dir='logs', name='exp')``: a class-path config as a call, for showing it in a form."""
    items = value if isinstance(value, list) else [value]
    calls = []
    for item in items:
        args = item.get("init_args") or {}
        inner = ", ".join(f"{key}={arg!r}" for key, arg in args.items()) if isinstance(args, dict) else repr(args)
        calls.append(f"{item['class_path']}({inner})")
    return ", ".join(calls)

_KIND_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "True or False",
    "str": "text",
    "none": "None (empty)",
    "dict": "a dict such as {'key': 1}",
    "list": "a list such as [0, 1]",
    "object": "a Python object (set it in the script)",
}


class FlagError(ValueError):
    """A flag value the form cannot accept; the message names the flag, the value and what is accepted."""


def kind_of(value: Any) -> str:
    """The schema kind of a Python value."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, (list, tuple)):
        return "list"
    return "object"


@dataclass(frozen=True)
class FlagSpec:
    """One flag of the exported schema."""

    name: str
    default: Any
    kinds: tuple[str, ...]
    group: str
    help: str
    choices: tuple[Any, ...]
    setting: str
    legacy: bool

    @property
    def form_editable(self) -> bool:
        """False for flags that only take Python objects (callbacks, plugins): set those in the script."""
        return any(k != "object" and k != "none" for k in self.kinds)

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` has an accepted kind (ints count as floats) and, for text, is one of the choices."""
        kind = kind_of(value)
        if kind not in self.kinds and not (kind == "int" and "float" in self.kinds):
            return False
        if kind == "str" and self.choices and any(isinstance(c, str) for c in self.choices):
            return value in self.choices
        return True

    def describe_accepted(self) -> str:
        """Human list of what the flag takes."""
        words = [_KIND_WORDS.get(k, k) for k in self.kinds if k != "object"]
        if self.choices:
            words = [w for w in words if w != "text"]
            words.append("one of " + ", ".join(repr(c) for c in self.choices))
        return " or ".join(words) if words else _KIND_WORDS["object"]


class FlagSchema:
    """The flags by name, in schema order, plus the group order."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.groups: list[str] = list(data["groups"])
        self.flags: dict[str, FlagSpec] = {}
        for raw in data["flags"]:
            default = raw["default"]
            if default == "inf":
                default = float("inf")
            self.flags[raw["name"]] = FlagSpec(
                name=raw["name"], default=default, kinds=tuple(raw["kinds"]), group=raw["group"],
                help=raw.get("help", ""), choices=tuple(raw.get("choices") or ()),
                setting=raw.get("setting") or raw["name"], legacy=bool(raw.get("legacy")),
            )

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> FlagSchema:
        """Read the schema JSON (the bundled copy by default)."""
        with open(path or SCHEMA_PATH, encoding="utf-8") as handle:
            return cls(json.load(handle))

    def in_group(self, group: str) -> list[FlagSpec]:
        """The flags of ``group`` in schema order."""
        return [f for f in self.flags.values() if f.group == group]

    def parse(self, name: str, text: str) -> Any:
        """The value for ``text`` typed into flag ``name``'s field ("" means the default).

        Raises:
            FlagError: when the text is not a value the flag accepts.
        """
        spec = self.flags[name]
        text = text.strip()
        if text == "":
            return spec.default
        if text.lower() in ("none", "null") and "none" in spec.kinds:
            return None
        if text.lower() in ("true", "false") and "bool" in spec.kinds:
            return text.lower() == "true"
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if isinstance(value, tuple):
            value = list(value)
        if not spec.accepts(value) and isinstance(value, (int, float)) and "str" in spec.kinds:
            value = text  # e.g. devices="0,1" style strings
        if not spec.accepts(value):
            raise FlagError(f"{name}: {text!r} is not accepted. {name} takes {spec.describe_accepted()}.")
        accepted = format_problem(name, value)
        if accepted is not None:  # the right kind, but not a meaningful value (a duration, a device list, a path)
            raise FlagError(f"{name}: {text!r} is not accepted. {name} takes {accepted}.")
        return value

    def suggest(self, name: str) -> str | None:
        """The flag a misspelled ``name`` most likely meant (the engine's rule: same words first, then spelling)."""
        words = sorted(name.lower().split("_"))
        for candidate in self.flags:
            if sorted(candidate.split("_")) == words:
                return candidate
        close = difflib.get_close_matches(name.lower(), list(self.flags), n=1, cutoff=0.6)
        return close[0] if close else None

    def validate(self, values: dict[str, Any]) -> list[str]:
        """Problems with a flags dict (unknown names, wrong kinds, two spellings of one setting); [] when fine."""
        problems = []
        settings: dict[str, str] = {}
        for name, value in values.items():
            spec = self.flags.get(name)
            if spec is None:
                hint = self.suggest(name)
                problems.append(f"{name}: not a Trainer flag." + (f" Did you mean {hint}?" if hint else ""))
                continue
            if name in OBJECT_FLAGS and is_object_config(value):
                pass  # built by the engine from its class path (and checked there, with a suggestion)
            elif not spec.accepts(value) and not (value == spec.default):
                problems.append(f"{name}: {value!r} is not accepted. {name} takes {spec.describe_accepted()}.")
            elif value != spec.default and (accepted := format_problem(name, value)) is not None:
                problems.append(f"{name}: {value!r} is not accepted. {name} takes {accepted}.")
            other = settings.get(spec.setting)
            if other is not None:
                problems.append(f"{other} and {name} are two spellings of one setting; give only one of them.")
            settings[spec.setting] = name
        return problems
