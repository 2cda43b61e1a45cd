"""``LightningCLI``: a user's script becomes a command line with subcommands and YAML configs (Lightning 1.5).

Built on jsonargparse, the library 1.x's LightningCLI used, so the same YAML form parses the same way::

    # train.py
    from trainer_core.utilities.cli import LightningCLI
    LightningCLI(MyModel, MyDataModule)

    python train.py fit --config config.yaml --trainer.max_epochs 3 --model.lr 0.01
    python train.py fit --print_config > config.yaml

The config has ``trainer:`` (Trainer flags), ``model:`` and ``data:`` (constructor arguments, directly or as
``class_path``/``init_args``) and ``seed_everything:``. The Trainer options come from the flag schema
(:data:`trainer_core.flags.FLAGS`), the model's and datamodule's from their constructor signatures.
"""

from __future__ import annotations

import os
import sys
import typing
from collections.abc import Callable
from typing import Any

from trainer_core.callback import Callback
from trainer_core.datamodule import LightningDataModule
from trainer_core.exceptions import MisconfigurationError
from trainer_core.flags import FLAGS, Flag
from trainer_core.module import LightningModule
from trainer_core.seed import seed_everything
from trainer_core.trainer import Trainer
from trainer_core.utilities.cli_optimizers import (
    AUTOMATIC,
    ClassOrClasses,
    ReduceLROnPlateau,
    add_default_choices,
    as_init_dict,
    attach_automatic_optimizers,
    class_path_of,
    configure_optimizers_default,
    instantiate_class,
    optimizer_classes_ok,
    scheduler_classes_ok,
)

__all__ = ["LightningArgumentParser", "LightningCLI", "ReduceLROnPlateau", "SaveConfigCallback",
           "instantiate_class"]

try:  # jsonargparse is a main dependency; the guard only turns a broken install into a clear message
    from jsonargparse import ActionConfigFile, Namespace
    from jsonargparse import ArgumentParser as _JsonArgumentParser
except ImportError as _err:  # pragma: no cover - exercised only without the dependency
    raise ImportError("LightningCLI needs the `jsonargparse[signatures]` package: pip install "
                      "'jsonargparse[signatures]'") from _err

# What each subcommand runs, and the Trainer method arguments it takes from the command line.
_SUBCOMMANDS: dict[str, str] = {
    "fit": "Runs the full optimization routine.",
    "validate": "Perform one evaluation epoch over the validation set.",
    "test": "Perform one evaluation epoch over the test set.",
    "predict": "Run inference on your data.",
    "tune": "Runs routines to tune hyperparameters before training.",
}
_KIND_TYPES: dict[str, Any] = {"int": int, "float": float, "bool": bool, "str": str, "dict": dict, "list": list,
                               "none": type(None)}


def _flag_type(flag: Flag) -> Any:
    """The jsonargparse type of a Trainer flag: its kinds as a Union; objects as the classes 1.x configs name."""
    from trainer_core.loggers import Logger

    objects = {"callbacks": list[Callback], "logger": typing.Union[Logger, list[Logger]]}
    types = [_KIND_TYPES[kind] for kind in flag.kinds if kind in _KIND_TYPES]
    if "object" in flag.kinds:
        if flag.name not in objects:
            return Any
        types.append(objects[flag.name])
    return typing.Union[tuple(types)] if len(types) > 1 else types[0]


class LightningArgumentParser(_JsonArgumentParser):
    """jsonargparse's parser with ``--config`` and the Trainer's flags as ``--trainer.NAME`` options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # nested key -> (class or classes, link_to), as 1.5 keeps them for LightningCLI
        self._optimizers: dict[str, tuple[ClassOrClasses, str]] = {}
        self._lr_schedulers: dict[str, tuple[ClassOrClasses, str]] = {}
        self.add_argument("-c", "--config", action=ActionConfigFile,
                          help="Path to a configuration file in YAML (trainer:, model:, data:, seed_everything:).")

    def add_trainer_flags(self, defaults: dict[str, Any] | None = None) -> None:
        """``--trainer.NAME`` for every flag of the schema (defaults from ``defaults``, else the schema's)."""
        defaults = defaults or {}
        for flag in FLAGS.values():
            default = defaults.get(flag.name, flag.default)
            self.add_argument(f"--trainer.{flag.name}", type=_flag_type(flag), default=default,
                              help=flag.help.replace("%", "%%"))

    def add_lightning_class_args(self, cls: type, key: str, subclass_mode: bool = False) -> None:
        """``--KEY.ARG`` options from ``cls``'s constructor; ``KEY:`` in a config takes the init arguments directly
        or as ``class_path``/``init_args`` (``subclass_mode`` accepts subclasses named by ``class_path``)."""
        self.add_subclass_arguments(cls, key, required=False, fail_untyped=False)
        self._class_keys = {*getattr(self, "_class_keys", ()), key}
        if not subclass_mode or not getattr(cls, "__abstractmethods__", None):
            self.set_defaults({key: {"class_path": f"{cls.__module__}.{cls.__qualname__}"}})

    def add_optimizer_args(self, optimizer_class: ClassOrClasses, nested_key: str = "optimizer",
                           link_to: str = AUTOMATIC) -> None:
        """``--optimizer.ARG`` for one optimizer class, or ``--optimizer=NAME`` (``class_path``/``init_args``) to
        choose among a tuple of them; ``params`` is left out (the model's parameters go there).

        Args:
            optimizer_class: a ``torch.optim.Optimizer`` subclass or a tuple of them.
            nested_key: the option and config section name.
            link_to: ``"AUTOMATIC"`` (LightningCLI fills in the model's ``configure_optimizers``) or the init
                argument that receives the choice as ``{"class_path", "init_args"}`` (``"model.optimizer_init"``).
        """
        if not optimizer_classes_ok(optimizer_class):
            raise MisconfigurationError(f"add_optimizer_args({optimizer_class!r}): give torch.optim.Optimizer "
                                        "subclasses (one class or a tuple)")
        self._add_choice_args(optimizer_class, nested_key, skip={"params"})
        self._optimizers[nested_key] = (optimizer_class, link_to)

    def add_lr_scheduler_args(self, lr_scheduler_class: ClassOrClasses, nested_key: str = "lr_scheduler",
                              link_to: str = AUTOMATIC) -> None:
        """``--lr_scheduler.ARG`` for one scheduler class, or ``--lr_scheduler=NAME`` among a tuple of them;
        ``optimizer`` is left out. ``link_to`` as in :meth:`add_optimizer_args`."""
        if not scheduler_classes_ok(lr_scheduler_class):
            raise MisconfigurationError(f"add_lr_scheduler_args({lr_scheduler_class!r}): give learning-rate "
                                        "scheduler classes of torch.optim.lr_scheduler (one class or a tuple)")
        self._add_choice_args(lr_scheduler_class, nested_key, skip={"optimizer"})
        self._lr_schedulers[nested_key] = (lr_scheduler_class, link_to)

    def _add_choice_args(self, classes: ClassOrClasses, nested_key: str, skip: set[str]) -> None:
        # Always the class_path/init_args form (one class defaults to itself, so `--optimizer.lr` works either
        # way); not instantiated here: the model's parameters do not exist yet.
        self.add_subclass_arguments(classes, nested_key, instantiate=False, fail_untyped=False, skip=skip,
                                    required=False)
        if not isinstance(classes, tuple):
            self.set_defaults({nested_key: {"class_path": class_path_of(classes)}})

    def link_arguments(self, source: Any, target: str, compute_fn: Any = None, apply_on: str = "parse") -> None:
        """jsonargparse's ``link_arguments``; ``model.X``/``data.X`` name the init argument X (1.5 spelling)."""
        sources = tuple(self._init_arg_key(key) for key in source) if isinstance(source, tuple) else \
            self._init_arg_key(source)
        super().link_arguments(sources, self._init_arg_key(target), compute_fn, apply_on)

    def _init_arg_key(self, key: str) -> str:
        group, dot, rest = key.partition(".")
        if dot and group in getattr(self, "_class_keys", ()) and not rest.startswith(("init_args.", "class_path")):
            return f"{group}.init_args.{rest}"
        return key


class SaveConfigCallback(Callback):
    """Writes the run's resolved config to ``trainer.log_dir/config.yaml`` when a stage is set up (global rank 0).

    Args:
        parser: the parser that produced ``config``.
        config: the resolved config.
        config_filename: the file name inside the log directory.
        overwrite: replace an existing file (else an existing file is an error: the run would not be reproducible).
        multifile: keep the parts that came from separate files in separate files.
    """

    def __init__(self, parser: LightningArgumentParser, config: Namespace, config_filename: str = "config.yaml",
                 overwrite: bool = False, multifile: bool = False) -> None:
        self.parser = parser
        self.config = config
        self.config_filename = config_filename
        self.overwrite = overwrite
        self.multifile = multifile

    def setup(self, trainer: Any, pl_module: Any, stage: str | None = None) -> None:
        log_dir = trainer.log_dir or trainer.default_root_dir
        config_path = os.path.join(log_dir, self.config_filename)
        if not self.overwrite and os.path.isfile(config_path):
            raise RuntimeError(
                f"{type(self).__name__} expected {config_path} to NOT exist. Aborting to avoid overwriting results "
                "of a previous run. Set save_config_overwrite=True to overwrite it, or use another log directory")
        if trainer.is_global_zero:
            os.makedirs(log_dir, exist_ok=True)
            self.parser.save(self.config, config_path, overwrite=self.overwrite,
                             multifile=self.multifile)


class LightningCLI:
    """The 1.5 LightningCLI: parse the command line and config files, build trainer, model and datamodule, run.

    Args:
        model_class: the LightningModule class (a base class when ``subclass_mode_model``).
        datamodule_class: the LightningDataModule class, or None for a model that defines its own loaders.
        save_config_callback: the callback that writes the resolved config to the log directory (None: not written).
        save_config_filename: its file name.
        save_config_overwrite: overwrite an existing config file.
        save_config_multifile: keep config parts from separate files separate.
        trainer_class: the Trainer class to build.
        trainer_defaults: Trainer arguments used unless the command line or a config sets them (``callbacks``
            given here are added to those of the config).
        seed_everything_default: the seed when the config gives none (None: no seeding).
        description: the ``--help`` description.
        env_prefix: prefix of environment variables read when ``env_parse`` is on.
        env_parse: read options from environment variables too.
        parser_kwargs: extra keywords for the parser(s): a dict, or a dict per subcommand name.
        subclass_mode_model: accept any subclass of ``model_class`` named by ``class_path``.
        subclass_mode_data: the same for ``datamodule_class``.
        run: run the subcommand; False parses one config without subcommands and only instantiates.
    """

    def __init__(self, model_class: type[LightningModule] | None = None,
                 datamodule_class: type[LightningDataModule] | None = None,
                 save_config_callback: type[SaveConfigCallback] | None = SaveConfigCallback,
                 save_config_filename: str = "config.yaml", save_config_overwrite: bool = False,
                 save_config_multifile: bool = False, trainer_class: type[Trainer] | Callable[..., Trainer] = Trainer,
                 trainer_defaults: dict[str, Any] | None = None, seed_everything_default: int | None = None,
                 description: str = "trainer_core command line tool", env_prefix: str = "PL",
                 env_parse: bool = False, parser_kwargs: dict[str, Any] | None = None,
                 subclass_mode_model: bool = False, subclass_mode_data: bool = False, run: bool = True) -> None:
        _check_model_class(model_class)
        self.model_class = model_class or LightningModule
        self.datamodule_class = datamodule_class
        self.subclass_mode_model = model_class is None or subclass_mode_model
        self.subclass_mode_data = subclass_mode_data
        self.save_config_callback = save_config_callback
        self.save_config_filename = save_config_filename
        self.save_config_overwrite = save_config_overwrite
        self.save_config_multifile = save_config_multifile
        self.trainer_class = trainer_class
        self.trainer_defaults = dict(trainer_defaults or {})
        self.seed_everything_default = seed_everything_default
        self.model: Any = None
        self.datamodule: Any = None
        self.trainer: Any = None

        main_kwargs, subparser_kwargs = self._setup_parser_kwargs(
            parser_kwargs or {}, {"description": description, "env_prefix": env_prefix, "default_env": env_parse})
        self.setup_parser(run, main_kwargs, subparser_kwargs)
        self.parse_arguments(self.parser)
        self.subcommand: str | None = self.config["subcommand"] if run else None
        self._set_seed()
        self.before_instantiate_classes()
        self.instantiate_classes()
        if self.subcommand is not None:
            self._run_subcommand(self.subcommand)

    # --- parser -----------------------------------------------------------------------------------------------
    @staticmethod
    def _setup_parser_kwargs(kwargs: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], dict]:
        if kwargs.keys() & _SUBCOMMANDS.keys():
            main = {**defaults, **{k: v for k, v in kwargs.items() if k not in _SUBCOMMANDS}}
            return main, {k: v for k, v in kwargs.items() if k in _SUBCOMMANDS}
        return {**defaults, **kwargs}, {}

    def init_parser(self, **kwargs: Any) -> LightningArgumentParser:
        """A new parser (override to change the parser class)."""
        return LightningArgumentParser(**kwargs)

    def setup_parser(self, add_subcommands: bool, main_kwargs: dict[str, Any],
                     subparser_kwargs: dict[str, Any]) -> None:
        """The main parser: one sub-parser per subcommand, or the core arguments directly when ``run=False``."""
        self.parser = self.init_parser(**main_kwargs)
        if add_subcommands:
            self._subcommand_method_arguments: dict[str, list[str]] = {}
            self._add_subcommands(self.parser, **subparser_kwargs)
        else:
            self._add_arguments(self.parser)

    def add_default_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """``--seed_everything`` (and ``--config``, added by the parser itself)."""
        parser.add_argument("--seed_everything", type=int | None, default=self.seed_everything_default,
                            help="Set to an int to run seed_everything with this value before classes "
                                 "instantiation")

    def add_core_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """``--trainer.*``, ``--model.*`` and ``--data.*``."""
        parser.add_trainer_flags({k: v for k, v in self.trainer_defaults.items() if k != "callbacks"})
        parser.add_lightning_class_args(self.model_class, "model", subclass_mode=self.subclass_mode_model)
        if self.datamodule_class is not None or self.subclass_mode_data:
            parser.add_lightning_class_args(self.datamodule_class or LightningDataModule, "data",
                                            subclass_mode=self.subclass_mode_data)

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        """Override to add arguments, optimizers and schedulers (``parser.add_optimizer_args(...)``,
        ``parser.add_lr_scheduler_args(...)``) or links (``parser.link_arguments(...)``)."""

    def _add_arguments(self, parser: LightningArgumentParser) -> None:
        self.add_default_arguments_to_parser(parser)
        self.add_core_arguments_to_parser(parser)
        self.add_arguments_to_parser(parser)
        add_default_choices(parser)
        self.link_optimizers_and_lr_schedulers(parser)

    @staticmethod
    def link_optimizers_and_lr_schedulers(parser: LightningArgumentParser) -> None:
        """Hand each optimizer/scheduler added with a ``link_to`` other than AUTOMATIC to that argument."""
        for key, (_, link_to) in {**parser._optimizers, **parser._lr_schedulers}.items():
            if link_to != AUTOMATIC:
                parser.link_arguments(key, link_to, compute_fn=as_init_dict)

    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        """Subcommand -> the Trainer method arguments not offered on the command line (objects built here)."""
        loaders = {"model", "dataloaders", "datamodule"}
        return {"fit": {"model", "train_dataloaders", "val_dataloaders", "datamodule", "train_dataloader"},
                "validate": loaders | {"val_dataloaders"}, "test": loaders | {"test_dataloaders"},
                "predict": loaders | {"return_predictions"},
                "tune": {"model", "train_dataloaders", "val_dataloaders", "datamodule", "train_dataloader"}}

    def _add_subcommands(self, parser: LightningArgumentParser, **kwargs: Any) -> None:
        self._subcommand_parsers: dict[str, LightningArgumentParser] = {}
        parser_subcommands = parser.add_subcommands()
        for subcommand, skip in self.subcommands().items():
            fn = getattr(self.trainer_class, subcommand)
            description = (fn.__doc__ or _SUBCOMMANDS[subcommand]).strip().splitlines()[0]
            subparser = self.init_parser(**kwargs.get(subcommand, {}))
            self._add_arguments(subparser)
            self._subcommand_method_arguments[subcommand] = _add_method_options(subparser, subcommand, skip)
            self._subcommand_parsers[subcommand] = subparser
            parser_subcommands.add_subcommand(subcommand, subparser, help=description)

    def parse_arguments(self, parser: LightningArgumentParser) -> None:
        """Parse ``sys.argv`` into ``self.config`` (override to parse something else)."""
        self.config = parser.parse_args(self._with_subcommand(sys.argv[1:]))

    def _with_subcommand(self, args: list[str]) -> list[str]:
        """1.3/1.4 scripts ran without subcommands (``train.py --trainer.max_epochs=5`` fitted at once): a command
        line naming no subcommand (and not asking for help) is read as ``fit``."""
        if not hasattr(self, "_subcommand_parsers") or {"-h", "--help"} & set(args):
            return args
        if any(arg in self._subcommand_parsers for arg in args):
            return args
        return ["fit", *args]

    def _parser(self, subcommand: str | None) -> LightningArgumentParser:
        return self.parser if subcommand is None else self._subcommand_parsers[subcommand]

    # --- instantiation ----------------------------------------------------------------------------------------
    def _set_seed(self) -> None:
        config = self._subconfig()
        seed = config.get("seed_everything")
        if seed is not None:
            config["seed_everything"] = seed_everything(seed, workers=True)

    def _subconfig(self) -> Namespace:
        return self.config[self.subcommand] if self.subcommand is not None else self.config

    def before_instantiate_classes(self) -> None:
        """Runs before the trainer, model and datamodule are built (override to change ``self.config``)."""

    def instantiate_classes(self) -> None:
        """Build the model, the datamodule and the trainer from the parsed config."""
        self.config_init = self._parser(self.subcommand).instantiate(self._subconfig())
        self.model = self.config_init.get("model")
        self.datamodule = self.config_init.get("data")
        self._add_configure_optimizers_method_to_model(self.subcommand)
        self.trainer = self.instantiate_trainer()

    def _add_configure_optimizers_method_to_model(self, subcommand: str | None) -> None:
        parser = self._parser(subcommand)
        if self.model is not None:
            attach_automatic_optimizers(self.model, parser._optimizers, parser._lr_schedulers, self.config_init,
                                        type(self).configure_optimizers, type(self).__name__)

    @staticmethod
    def configure_optimizers(lightning_module: LightningModule, optimizer: Any, lr_scheduler: Any = None) -> Any:
        """What the filled-in ``configure_optimizers`` returns (override in a subclass to change it): the optimizer,
        ``[optimizer], [lr_scheduler]``, or for a ``ReduceLROnPlateau`` a dict with its ``monitor``."""
        return configure_optimizers_default(lightning_module, optimizer, lr_scheduler)

    def _trainer_kwargs(self) -> dict[str, Any]:
        given = self.config_init.get("trainer")
        given = given.as_dict() if isinstance(given, Namespace) else dict(given or {})
        # Parsed objects (callbacks, loggers) were instantiated; `as_dict` turned nothing else into dicts.
        chosen = {name: value for name, value in given.items()
                  if name in FLAGS and not _same(value, self.trainer_defaults.get(name, FLAGS[name].default))}
        for name, value in self.trainer_defaults.items():
            if name != "callbacks":
                chosen.setdefault(name, value)
        return chosen

    def instantiate_trainer(self, **kwargs: Any) -> Any:
        """The trainer: config flags, then ``trainer_defaults``; ``SaveConfigCallback`` added to the callbacks."""
        trainer_config = {**self._trainer_kwargs(), **kwargs}
        trainer_objects = self.config_init.get("trainer")
        configured = trainer_objects.get("callbacks") if trainer_objects is not None else None
        callbacks = list(_as_list(self.trainer_defaults.get("callbacks"))) + list(_as_list(configured))
        if self.save_config_callback is not None and not trainer_config.get("fast_dev_run"):
            callbacks.append(self.save_config_callback(
                self._parser(self.subcommand), self._subconfig().clone(), self.save_config_filename,
                overwrite=self.save_config_overwrite, multifile=self.save_config_multifile))
        if callbacks:
            trainer_config["callbacks"] = callbacks
        else:
            trainer_config.pop("callbacks", None)
        return self.trainer_class(**trainer_config)

    # --- running ----------------------------------------------------------------------------------------------
    def _prepare_subcommand_kwargs(self, subcommand: str) -> dict[str, Any]:
        config = self._subconfig()
        kwargs: dict[str, Any] = {"model": self.model}
        if self.datamodule is not None:
            kwargs["datamodule"] = self.datamodule
        for name in self._subcommand_method_arguments.get(subcommand, []):
            value = config.get(name)
            kwargs[name] = value.as_dict() if isinstance(value, Namespace) else value
        return kwargs

    def _run_subcommand(self, subcommand: str) -> None:
        before = getattr(self, f"before_{subcommand}", None)
        if callable(before):
            before()
        default = getattr(self.trainer, subcommand)
        fn = getattr(self, subcommand) if callable(getattr(self, subcommand, None)) else default
        fn(**self._prepare_subcommand_kwargs(subcommand))
        after = getattr(self, f"after_{subcommand}", None)
        if callable(after):
            after()


# Trainer method arguments offered per subcommand: (name, type, default, help).
_METHOD_OPTIONS: dict[str, list[tuple[str, Any, Any, str]]] = {
    "fit": [("ckpt_path", str | None, None, "Checkpoint to resume training from.")],
    "validate": [("ckpt_path", str | None, None, 'Weights to validate ("best", "last" or a path).'),
                 ("verbose", bool, True, "Print the validation results.")],
    "test": [("ckpt_path", str | None, None, 'Weights to test ("best", "last" or a path).'),
             ("verbose", bool, True, "Print the test results.")],
    "predict": [("ckpt_path", str | None, None, 'Weights to predict with ("best" or a path).')],
    "tune": [("scale_batch_size_kwargs", dict | None, None, "Arguments for the batch-size finder."),
             ("lr_find_kwargs", dict | None, None, "Arguments for the learning-rate finder.")],
}


def _add_method_options(parser: LightningArgumentParser, subcommand: str, skip: set[str]) -> list[str]:
    names = []
    for name, kind, default, help_text in _METHOD_OPTIONS[subcommand]:
        if name not in skip:
            parser.add_argument(f"--{name}", type=kind, default=default, help=help_text)
            names.append(name)
    return names


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default


def _check_model_class(model_class: Any) -> None:
    if model_class is not None and not (isinstance(model_class, type) and issubclass(model_class, LightningModule)):
        raise MisconfigurationError(f"LightningCLI(model_class={model_class!r}): give a LightningModule subclass")
