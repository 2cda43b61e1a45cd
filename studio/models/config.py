"""The run configuration edited in the studio, and its YAML form (the shape
``trainer-core --config`` reads: ``trainer:``, ``model:``, ``data:`` sections).

``RunConfig`` holds what the forms show; ``to_spec(mode)`` is the RunSpec dict sent to the worker and
``to_yaml()``/``from_yaml()`` read and write the file the command line accepts with ``--config``::

    trainer: {max_epochs: 5, ...}          # only flags that differ from their defaults
    model: {script: ..., class: ..., init_args: {...}}
    data: {script: ..., class: ..., init_args: {...}}   or   {path: ..., batch_size: ..., val_split: ..., ...}
    ckpt_path: ...                         # optional; also seed_everything:, tune:, debug:
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from studio.models.atomic_file import write_text_atomically

__all__ = ["RunConfig", "ConfigFileError", "MODES"]

MODES = ("fit", "validate", "test", "predict", "tune", "debug")
_SECTIONS = ("trainer", "model", "data", "ckpt_path", "seed_everything", "tune", "debug")
_CLASS_KEYS = ("script", "class", "init_args")  # a model: section, or a data: section naming a DataModule


class ConfigFileError(ValueError):
    """A YAML file that is not a run configuration; the message says what is wrong and how to fix it."""


@dataclass
class RunConfig:
    """Everything needed to launch a run except the mode."""

    model_script: str = ""
    model_class: str | None = None
    model_init_args: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    trainer_flags: dict[str, Any] = field(default_factory=dict)
    ckpt_path: str | None = None
    tune: dict[str, Any] = field(default_factory=dict)
    debug: str = "fast_dev_run"
    seed: int | None = None
    # Full unpickling of ckpt_path (it can run code). Off in the studio: such a file is refused with a message.
    trust_checkpoint: bool = False

    def to_spec(self, mode: str) -> dict[str, Any]:
        """The RunSpec fields for ``mode`` as a plain dict (what the worker receives)."""
        if mode not in MODES:
            raise ValueError(f"Unknown mode {mode!r}; use one of {', '.join(MODES)}.")
        return {
            "mode": mode,
            "model_script": self.model_script,
            "model_class": self.model_class,
            "model_init_args": dict(self.model_init_args),
            "data": dict(self.data) if self.data else None,
            "trainer_flags": dict(self.trainer_flags),
            "ckpt_path": self.ckpt_path,
            "tune": dict(self.tune),
            "debug": self.debug,
            "seed": self.seed,
            "trust_checkpoint": self.trust_checkpoint,
        }

    def to_config(self) -> dict[str, Any]:
        """The ``--config`` mapping."""
        out: dict[str, Any] = {"trainer": dict(self.trainer_flags)}
        model: dict[str, Any] = {"script": self.model_script}
        if self.model_class:
            model["class"] = self.model_class
        if self.model_init_args:
            model["init_args"] = dict(self.model_init_args)
        out["model"] = model
        if self.data:
            out["data"] = dict(self.data)
        if self.ckpt_path:
            out["ckpt_path"] = self.ckpt_path
        if self.seed is not None:
            out["seed_everything"] = self.seed
        if self.tune:
            out["tune"] = dict(self.tune)
        if self.debug != "fast_dev_run":
            out["debug"] = self.debug
        return out

    def to_yaml(self) -> str:
        """The ``--config`` YAML text."""
        return yaml.safe_dump(self.to_config(), sort_keys=False, default_flow_style=False)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the YAML atomically: a studio killed while saving leaves the old file or the new one, never a mix."""
        write_text_atomically(path, self.to_yaml())

    @classmethod
    def from_config(cls, config: Any, base_dir: str | os.PathLike[str] | None = None,
                    source: str = "config") -> RunConfig:
        """Build from a ``--config`` mapping; relative script/data paths resolve against ``base_dir``.

        Raises:
            ConfigFileError: when the mapping does not have the expected sections.
        """
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise ConfigFileError(f"{source}: expected a mapping with trainer:, model: and data: sections, "
                                  f"found {type(config).__name__}.")
        unknown = set(config) - set(_SECTIONS)
        if unknown:
            raise ConfigFileError(f"{source}: unknown section(s) {', '.join(sorted(unknown))}; use "
                                  f"{', '.join(s + ':' for s in _SECTIONS)}.")
        trainer = config.get("trainer") or {}
        model = config.get("model") or {}
        data = config.get("data") or None
        for name, section in (("trainer", trainer), ("model", model), ("data", data or {})):
            if not isinstance(section, dict):
                raise ConfigFileError(f"{source}: the {name}: section must be a mapping, found "
                                      f"{type(section).__name__}.")
        for name, section in (("model", model), ("data", data if data and "path" not in data else {})):
            # Keys the studio would otherwise drop without a word (constructor arguments outside init_args, say).
            for key in section:
                if key not in _CLASS_KEYS:
                    raise ConfigFileError(f"{source}: unknown key `{key}` in the {name}: section. Accepted keys: "
                                          f"{', '.join(_CLASS_KEYS)}; constructor arguments go under init_args:.")
        base = Path(base_dir) if base_dir is not None else None

        def resolve(value: Any) -> Any:
            if isinstance(value, str) and value and base is not None and not os.path.isabs(value):
                return str((base / value).resolve())
            return value

        if data:
            data = dict(data)
            for key in ("script", "path"):
                if key in data:
                    data[key] = resolve(data[key])
        return cls(
            model_script=resolve(model.get("script") or ""),
            model_class=model.get("class"),
            model_init_args=dict(model.get("init_args") or {}),
            data=data,
            trainer_flags=dict(trainer),
            ckpt_path=resolve(config.get("ckpt_path")),
            tune=dict(config.get("tune") or {}),
            debug=str(config.get("debug") or "fast_dev_run"),
            seed=config.get("seed_everything"),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunConfig:
        """Read a ``--config`` YAML file.

        Raises:
            ConfigFileError: unreadable file, invalid YAML or wrong shape (the message names the file).
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigFileError(f"Cannot read {path}: {error.strerror or error}.") from error
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigFileError(f"{path} is not valid YAML: {error}. Fix the file or save a new one.") from error
        return cls.from_config(data, base_dir=path.parent, source=str(path))
