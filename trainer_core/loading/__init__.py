"""Loading what the user points at: scripts, data files and run configs.

One module for the command line and the studio's worker, so both give the same messages:

- :func:`import_script`, :func:`load_model_class`, :func:`load_datamodule_class`, :func:`list_classes`:
  import a script by path and pick its LightningModule / LightningDataModule (``ScriptError`` otherwise).
- :class:`FileDataModule`, :func:`read_data`: batches from CSV, ``.npz``, ``.pt`` or an image folder
  (``DataError`` otherwise).
- :func:`load_config`, :func:`dump_config`, :func:`check_config`, :func:`merge_configs`: the ``--config`` YAML.
"""

from __future__ import annotations

from typing import Any

from trainer_core.loading.config import check_config, dump_config, load_config, merge_configs
from trainer_core.loading.errors import ConfigError, DataError, ScriptError
from trainer_core.loading.formats import LoadedData, read_data
from trainer_core.loading.images import read_image, write_png
from trainer_core.loading.script import (
    ClassInfo,
    import_script,
    list_classes,
    load_datamodule_class,
    load_model_class,
    pick_class,
    split_class_ref,
)

__all__ = [
    "ClassInfo",
    "ConfigError",
    "DataError",
    "FileDataModule",
    "LoadedData",
    "ScriptError",
    "check_config",
    "dump_config",
    "import_script",
    "list_classes",
    "load_config",
    "load_datamodule_class",
    "load_model_class",
    "merge_configs",
    "pick_class",
    "read_data",
    "read_image",
    "split_class_ref",
    "write_png",
]


def __getattr__(name: str) -> Any:
    # FileDataModule subclasses LightningDataModule, which imports the engine; load it only when asked for.
    if name == "FileDataModule":
        from trainer_core.loading.datamodule import FileDataModule

        return FileDataModule
    raise AttributeError(f"module 'trainer_core.loading' has no attribute {name!r}")
