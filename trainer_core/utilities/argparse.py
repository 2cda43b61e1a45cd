"""Lightning 1.x's argparse helpers: ``add_argparse_args``, ``from_argparse_args``, ``parse_argparser``.

``Trainer`` gets its options from the one flag schema (:data:`trainer_core.flags.FLAGS`), so a script's
``--max_epochs 3`` means exactly what ``Trainer(max_epochs=3)`` means; any other class (a LightningDataModule)
gets them from its constructor signature. Values are read as Python literals (``--gpus 1``, ``--devices [0,1]``)
and fall back to the plain text (``--precision bf16``), the same reading as the ``trainer-core`` command line.

Examples:
    >>> import trainer_core as pl
    >>> from argparse import ArgumentParser
    >>> parser = pl.Trainer.add_argparse_args(ArgumentParser())
    >>> args = parser.parse_args(["--max_epochs", "3", "--logger", "false"])
    >>> (args.max_epochs, args.logger)
    (3, False)
"""

from __future__ import annotations

import ast
import inspect
from argparse import ArgumentParser, Namespace
from collections.abc import Callable, Mapping
from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAGS, Flag

__all__ = [
    "add_argparse_args",
    "flag_value",
    "from_argparse_args",
    "get_init_arguments_and_types",
    "parse_argparser",
    "parse_value",
]

_WORDS = {"true": True, "false": False, "none": None, "null": None}
_KIND_OF = {bool: "bool", int: "int", float: "float", str: "str", dict: "dict", list: "list", tuple: "list",
            type(None): "none"}


def parse_value(text: str) -> Any:
    """A command-line value as Python reads it (``3``, ``0.5``, ``[0, 1]``, ``True``), else the plain string.

    ``true``/``false``/``none``/``null`` in any case are the booleans and None, as in YAML.
    """
    if not isinstance(text, str):
        return text
    lowered = text.strip().lower()
    if lowered in _WORDS:
        return _WORDS[lowered]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    return list(value) if isinstance(value, tuple) else value


def flag_value(flag: Flag, text: str) -> Any:
    """A Trainer flag's command-line value; a path flag given ``123`` keeps the text (the folder called 123)."""
    value = parse_value(text)
    if _KIND_OF.get(type(value), "object") not in flag.kinds and "str" in flag.kinds:
        return text
    return value


def _is_trainer(cls: type) -> bool:
    return any(base.__name__ == "Trainer" and base.__module__.startswith("trainer_core") for base in cls.__mro__)


def get_init_arguments_and_types(cls: type) -> list[tuple[str, tuple[type, ...], Any]]:
    """``(name, accepted types, default)`` for each keyword of ``cls``'s constructor (1.x helper).

    ``Trainer`` takes ``**flags``, so its arguments come from the flag schema instead of the signature.
    """
    if _is_trainer(cls):
        kinds = {"int": int, "float": float, "bool": bool, "str": str, "dict": dict, "list": list,
                 "none": type(None), "object": object}
        return [(f.name, tuple(kinds[k] for k in f.kinds), f.default) for f in FLAGS.values()]
    out = []
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = param.annotation
        types = (annotation,) if isinstance(annotation, type) and annotation is not inspect.Parameter.empty else ()
        default = None if param.default is inspect.Parameter.empty else param.default
        out.append((name, types, default))
    return out


def _signature_type(types: tuple[type, ...], default: Any) -> Callable[[str], Any]:
    """How to read one constructor argument: its annotation or default's type when plain, else a Python literal."""
    plain = types[0] if len(types) == 1 else type(default) if default is not None else None
    if plain in (int, float, str):
        return plain  # type: ignore[return-value]
    return parse_value


def add_argparse_args(cls: type, parent_parser: ArgumentParser, *,
                      use_argument_group: bool = True) -> ArgumentParser:
    """Add one ``--NAME`` option per constructor argument of ``cls`` (every flag for ``Trainer``).

    Args:
        cls: the class whose arguments become options (``Trainer`` or a LightningDataModule subclass).
        parent_parser: the script's parser; it is returned with the options added.
        use_argument_group: put the options in a group named after the class (1.x default); False adds them to
            the parser itself.

    Returns:
        ``parent_parser``.
    """
    if not isinstance(parent_parser, ArgumentParser):
        raise MisconfigurationError(
            f"{cls.__name__}.add_argparse_args needs an argparse.ArgumentParser, got {type(parent_parser).__name__}")
    target: Any = parent_parser.add_argument_group(cls.__name__) if use_argument_group else parent_parser
    if _is_trainer(cls):
        for flag in FLAGS.values():
            extra: dict[str, Any] = {"nargs": "?", "const": True} if "bool" in flag.kinds else {}
            target.add_argument(f"--{flag.name}", dest=flag.name, default=flag.default,
                                type=_flag_reader(flag), help=flag.help.replace("%", "%%"), **extra)
        return parent_parser
    for name, types, default in get_init_arguments_and_types(cls):
        extra = {"nargs": "?", "const": True} if bool in types or isinstance(default, bool) else {}
        reader = parse_value if extra else _signature_type(types, default)
        target.add_argument(f"--{name}", dest=name, default=default, type=reader,
                            help=f"{cls.__name__}({name}=...) (default: {default!r})".replace("%", "%%"), **extra)
    return parent_parser


def _flag_reader(flag: Flag) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        return flag_value(flag, text)

    read.__name__ = flag.name  # argparse names the option's type in its "invalid value" message
    return read


def parse_argparser(cls: type, arg_parser: ArgumentParser | Namespace) -> Namespace:
    """Parse ``sys.argv`` with ``arg_parser`` (a Namespace is returned as given), as 1.x's helper did."""
    if isinstance(arg_parser, Namespace):
        return arg_parser
    return arg_parser.parse_args()


def from_argparse_args(cls: type, args: Namespace | Mapping[str, Any], **kwargs: Any) -> Any:
    """``cls(**the arguments it accepts)``: other entries of ``args`` (the script's own options) are ignored.

    ``kwargs`` override ``args``. For ``Trainer``, a flag still at its schema default is left out, so the 1.x and
    2.x spellings of one setting (``progress_bar_refresh_rate`` and ``enable_progress_bar``) never both count as
    given; a value the user set is passed and validated as ``Trainer(...)`` would.
    """
    given = dict(vars(args) if isinstance(args, Namespace) else args)
    if _is_trainer(cls):
        chosen = {name: value for name, value in given.items()
                  if name in FLAGS and not _same(value, FLAGS[name].default)}
    else:
        names = {name for name, _, _ in get_init_arguments_and_types(cls)}
        chosen = {name: value for name, value in given.items() if name in names}
    chosen.update(kwargs)
    return cls(**chosen)


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default
