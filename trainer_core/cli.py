"""The command line: ``trainer-core fit|validate|test|predict|tune|debug|sweep`` (also ``python -m trainer_core``).

Options are built from the flag schema (:data:`trainer_core.flags.FLAGS`), so every Trainer flag is an option of
the same name. Values are read as Python literals (``--gpus 1``, ``--max_time "{'hours': 1}"``), falling back to
plain strings (``--precision bf16``). Model and data constructor arguments are ``--model.NAME VALUE`` and
``--data.NAME VALUE``; tuner arguments ``--tune.NAME VALUE``. ``--config FILE.yaml`` (repeatable) is read first,
and options on the command line override it.

Bad input (a misspelled flag, a script that does not import, a missing data file...) ends with exit status 2 and
one paragraph on stderr; ``--traceback`` shows where it was raised. An exception from the user's own code prints
its traceback and exits with 1.

Examples:
    trainer-core fit --model resources/examples/mlp.py --max_epochs 3
    trainer-core fit --model net.py:Net --model.hidden 64 --data data.csv --data.val_split 0.1
    trainer-core test --model net.py --data data.csv --ckpt_path lightning_logs/version_0/checkpoints/last.ckpt
    trainer-core tune --model net.py --data data.csv --auto_scale_batch_size binsearch
    trainer-core fit --config run.yaml --max_epochs 10 --print_config > run2.yaml
"""

from __future__ import annotations

import argparse
import difflib
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAG_GROUPS, FLAGS, suggest_flag
from trainer_core.loading.config import DATA_FILE_KEYS, check_config, dump_config, load_config, merge_configs
from trainer_core.loading.script import split_class_ref
from trainer_core.runner import MODES, RunResult, RunSpec, execute
from trainer_core.utilities.argparse import flag_value as _flag_value
from trainer_core.utilities.argparse import parse_value

__all__ = ["CliError", "main", "parse_args", "parse_value", "build_parser"]

_MODE_HELP = {
    "fit": "train the model (resume with --ckpt_path)",
    "validate": "run the validation loop once (weights from --ckpt_path, if given)",
    "test": "run the test loop (weights from --ckpt_path, if given)",
    "predict": "run prediction and save the outputs to predictions.pt in the run directory",
    "tune": "find a learning rate (default) and/or batch size (--auto_lr_find, --auto_scale_batch_size)",
    "debug": "a quick fit to find bugs: fast_dev_run, or overfit_batches when given",
}
_RUN_OPTIONS = ("model", "data", "config", "ckpt_path", "seed_everything", "print_config", "traceback",
                "trust_checkpoint")
_SECTIONS = ("model", "data", "tune")


class CliError(MisconfigurationError):
    """The command line itself is wrong (unknown option, missing value, no subcommand)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse prints usage and exits; we want our one-paragraph format
        raise CliError(f"{message}. See `{self.prog} --help`.")


def build_parser() -> argparse.ArgumentParser:
    """The parser: one subcommand per mode, each with the run options and every Trainer flag of the schema."""
    parser = _Parser(prog="trainer-core", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Train, evaluate and tune a LightningModule script (trainer_core).",
                     epilog="Run `trainer-core SUBCOMMAND --help` for the options. `trainer-core sweep --help`: "
                            "hyper-parameter sweeps.\n\n" + __doc__.split("Examples:")[1])
    sub = parser.add_subparsers(dest="mode", metavar="SUBCOMMAND", parser_class=_Parser)
    for mode in MODES:
        usage = (f"trainer-core {mode} --model SCRIPT[:CLASS] [--data SOURCE] [--config FILE.yaml] [--FLAG VALUE ...] "
                 "[--model.ARG VALUE ...]")
        p = sub.add_parser(mode, help=_MODE_HELP[mode], description=f"trainer-core {mode}: {_MODE_HELP[mode]}.",
                           usage=usage,
                           allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
                           epilog="Constructor arguments: --model.NAME VALUE, --data.NAME VALUE (a data file takes "
                                  f"{', '.join(DATA_FILE_KEYS[1:])}); tuner arguments: --tune.NAME VALUE.")
        run = p.add_argument_group("run")
        run.add_argument("--model", metavar="SCRIPT[:CLASS]", help="the LightningModule script (and class)")
        run.add_argument("--data", metavar="SCRIPT:CLASS|PATH",
                         help="a LightningDataModule, or a .csv/.npz/.pt file or a folder of images in class folders")
        run.add_argument("--config", action="append", default=[], metavar="FILE.yaml",
                         help="a run config (repeatable; the command line overrides it)")
        run.add_argument("--ckpt_path", metavar="PATH", help="checkpoint to resume from (fit) or to load weights from")
        run.add_argument("--seed_everything", type=int, metavar="N", help="seed python, numpy and torch first")
        run.add_argument("--print_config", action="store_true", help="print the resolved config as YAML and exit")
        run.add_argument("--traceback", action="store_true", help="on bad input, also print the traceback")
        run.add_argument("--trust_checkpoint", action="store_true",
                         help="load --ckpt_path with full unpickling (can run code: only for files you trust)")
        groups = {group: p.add_argument_group(f"Trainer flags: {group}") for group in FLAG_GROUPS}
        for flag in FLAGS.values():
            extra: dict[str, Any] = {"nargs": "?", "const": "True"} if "bool" in flag.kinds else {}
            note = " [1.x spelling]" if flag.legacy else ""
            default = "" if "Default" in flag.help else f" (default: {flag.default!r})"
            text = f"{flag.help}{note}{default}".replace("%", "%%")
            groups.get(flag.group, run).add_argument(f"--{flag.name}", dest=f"flag:{flag.name}", metavar="VALUE",
                                                     default=argparse.SUPPRESS, help=text, **extra)
    return parser


def _unknown_option(token: str, mode: str) -> CliError:
    name = token.lstrip("-").partition("=")[0]
    hint = suggest_flag(name.replace("-", "_"))
    if hint is None:
        close = difflib.get_close_matches(name, _RUN_OPTIONS, n=1)
        hint = close[0] if close else None
    tip = f" Did you mean `--{hint}`?" if hint else f" Run `trainer-core {mode} --help` for the options."
    if not token.startswith("-"):
        return CliError(f"unexpected argument `{token}`: options take the form --NAME VALUE (the model script is "
                        "given with --model SCRIPT.py).")
    return CliError(f"`{token.partition('=')[0]}` is not an option of trainer-core {mode}: `{name}` is not a Trainer "
                    f"flag or run option.{tip}")


def _dotted(extras: list[str], mode: str) -> dict[str, dict[str, Any]]:
    """``--model.NAME VALUE``/``--data.NAME=VALUE``/``--tune.NAME VALUE`` options; anything else is an error."""
    out: dict[str, dict[str, Any]] = {section: {} for section in _SECTIONS}
    i = 0
    while i < len(extras):
        token = extras[i]
        name, eq, value = token[2:].partition("=")
        section, dot, key = name.partition(".")
        if token.startswith("--") and dot and section in _SECTIONS and not key.isidentifier():
            fixed = key.replace("-", "_")
            tip = f" Did you mean `--{section}.{fixed}`?" if fixed.isidentifier() else ""
            raise CliError(f"`--{name}`: `{key}` is not a Python argument name.{tip}")
        if not (token.startswith("--") and dot and section in _SECTIONS):
            raise _unknown_option(token, mode)
        if not eq:
            if i + 1 >= len(extras) or extras[i + 1].startswith("--"):
                raise CliError(f"--{name} needs a value: --{name} VALUE.")
            value = extras[i + 1]
            i += 1
        out[section][key] = parse_value(value)
        i += 1
    return out


@dataclass
class Parsed:
    """A parsed command line: the mode, the merged config (``--config`` shape) and the output options."""

    mode: str
    config: dict[str, Any]
    print_config: bool = False
    traceback: bool = False
    trust_checkpoint: bool = False


def parse_args(argv: Sequence[str]) -> Parsed:
    """Parse ``argv`` (without the program name) into the mode and the merged run config.

    Raises:
        MisconfigurationError: a usage error (``CliError``), a bad config file or a misspelled flag.
    """
    namespace, extras = build_parser().parse_known_args(list(argv))
    mode = namespace.mode
    if mode is None:
        raise CliError(f"give a subcommand: {', '.join(MODES)}. Example: trainer-core fit --model model.py.")
    dotted = _dotted(extras, mode)
    config: dict[str, Any] = {}
    for path in namespace.config:
        config = merge_configs(config, load_config(path))
    cli: dict[str, Any] = {}
    flags = {key[5:]: _flag_value(FLAGS[key[5:]], value) for key, value in vars(namespace).items()
             if key.startswith("flag:")}
    if flags:
        cli["trainer"] = flags
    if namespace.model:
        script, cls = split_class_ref(namespace.model)
        cli["model"] = {"script": script, "class": cls, "init_args": {}}
    if namespace.data:
        script, cls = split_class_ref(namespace.data)
        cli["data"] = {"script": script, "class": cls, "init_args": {}} if script.endswith(".py") else {
            "path": namespace.data}
    if namespace.ckpt_path:
        cli["ckpt_path"] = namespace.ckpt_path
    if namespace.seed_everything is not None:
        cli["seed_everything"] = namespace.seed_everything
    if dotted["tune"]:
        cli["tune"] = dotted["tune"]
    merged = merge_configs(config, cli)
    _apply_init_args(merged, dotted)
    return Parsed(mode, check_config(merged, "command line"), namespace.print_config, namespace.traceback,
                  namespace.trust_checkpoint)


def _apply_init_args(merged: dict[str, Any], dotted: dict[str, dict[str, Any]]) -> None:
    if dotted["model"]:
        if "model" not in merged:
            raise CliError(f"--model.{next(iter(dotted['model']))} was given but no model: add --model SCRIPT.py.")
        merged["model"].setdefault("init_args", {}).update(dotted["model"])
    if dotted["data"]:
        data = merged.get("data")
        if not data:
            raise CliError(f"--data.{next(iter(dotted['data']))} was given but no data source: add --data PATH or "
                           "--data SCRIPT.py:CLASS.")
        if "path" in data:
            for key in dotted["data"]:
                if key not in DATA_FILE_KEYS:
                    close = difflib.get_close_matches(key, DATA_FILE_KEYS, n=1)
                    tip = f" Did you mean `--data.{close[0]}`?" if close else ""
                    raise CliError(f"`--data.{key}` is not an option of a data file.{tip} Options: "
                                   f"{', '.join(DATA_FILE_KEYS[1:])}.")
            data.update(dotted["data"])
        else:
            data.setdefault("init_args", {}).update(dotted["data"])


def resolved_config(parsed: Parsed) -> str:
    """The YAML that ``--print_config`` prints: class names resolved and constructor defaults filled in."""
    from trainer_core.flags import validate_flags
    from trainer_core.loading.build import init_defaults, load_classes
    from trainer_core.loading.objects import instantiate_flag_objects

    spec = RunSpec.from_config(parsed.config, parsed.mode)
    validate_flags(instantiate_flag_objects(spec.trainer_flags))
    model_cls, dm_cls = load_classes(spec)
    spec.model_class = model_cls.__name__
    spec.model_init_args = {**init_defaults(model_cls), **spec.model_init_args}
    if dm_cls is not None and spec.data is not None:
        spec.data["class"] = dm_cls.__name__
        spec.data["init_args"] = {**init_defaults(dm_cls), **(spec.data.get("init_args") or {})}
    return dump_config(spec.to_config())


class _Announcer:
    """Prints the run directory once the Trainer exists; keeps it so only rank 0 reports (DDP runs one per rank)."""

    def __init__(self) -> None:
        self.trainer: Any = None

    def __call__(self, trainer: Any) -> None:
        self.trainer = trainer
        if trainer.is_global_zero and trainer.logger is not None and not trainer.fast_dev_run:
            print(f"Run directory: {trainer.log_dir}", flush=True)

    @property
    def is_global_zero(self) -> bool:
        return self.trainer is None or bool(self.trainer.is_global_zero)


def _report(result: RunResult) -> None:
    lines = []
    if result.stopped_early:
        lines.append(f"Stopped early by {result.stopped_early}")
    if result.best_checkpoint:
        lines.append(f"Best checkpoint: {result.best_checkpoint}")
    if result.last_checkpoint and result.last_checkpoint != result.best_checkpoint:
        lines.append(f"Last checkpoint: {result.last_checkpoint}")
    if result.tune.get("lr") is not None:
        lines.append(f"Suggested learning rate: {result.tune['lr']:.3g}")
    if result.tune.get("batch_size") is not None:
        lines.append(f"Batch size found: {result.tune['batch_size']}")
    if result.predictions_path:
        lines.append(f"Predictions saved to: {result.predictions_path}")
    if result.log_dir:
        lines.append(f"Run directory: {result.log_dir}")
    if lines:
        print("\n".join(lines), flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 the user's code raised, 2 bad input, 130 Ctrl-C)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["sweep"]:  # its own options (a sweep file, trial counts), not a Trainer run's
        from trainer_core.sweep.cli import main as sweep_main

        return sweep_main(args[1:])
    mode = next((a for a in args if a in MODES), "")
    show_traceback = "--traceback" in args
    prefix = f"trainer-core {mode}".strip()
    try:
        parsed = parse_args(args)
        if parsed.print_config:
            sys.stdout.write(resolved_config(parsed))
            return 0
        announcer = _Announcer()
        spec = RunSpec.from_config(parsed.config, parsed.mode)
        spec.trust_checkpoint = parsed.trust_checkpoint
        result = execute(spec, on_trainer=announcer)
        if announcer.is_global_zero:
            _report(result)
        return 0
    except MisconfigurationError as err:
        if show_traceback:
            traceback.print_exc()
        message = " ".join(str(err).split())  # one paragraph, whatever the message's line breaks
        print(f"{prefix}: error: {message}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted.", file=sys.stderr, flush=True)
        return 130
    except Exception as err:  # noqa: BLE001 - the user's code failed: show where, then a one-line summary
        traceback.print_exc()
        print(f"{prefix}: the run failed with {type(err).__name__} (traceback above).", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
