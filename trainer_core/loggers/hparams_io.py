"""Reading and writing ``hparams.yaml``: plain YAML a person can read, never Python object tags.

Hyper-parameters may hold tensors, numpy values, paths, enums, classes or arbitrary objects. They are converted to
plain values (numbers, strings, lists, dicts) so the file loads with ``yaml.safe_load`` anywhere.

Examples:
    >>> import torch
    >>> to_plain({"lr": torch.tensor(0.5), "dims": (2, 3)})
    {'lr': 0.5, 'dims': [2, 3]}
"""

from __future__ import annotations

import enum
import os
import tempfile
from argparse import Namespace
from collections.abc import Mapping
from typing import Any

__all__ = ["to_plain", "save_hparams_to_yaml", "load_hparams_from_yaml", "atomic_write_text"]


def to_plain(value: Any) -> Any:
    """Convert ``value`` to types YAML's safe dumper writes (None, bool, int, float, str, list, dict).

    Tensors and numpy arrays become numbers or nested lists, enums their value, paths strings, classes and functions
    their qualified name, ``Namespace`` a dict; any other object its ``str()``.
    """
    if value is None:
        return None
    for plain_type in (bool, int, float, str):
        if isinstance(value, plain_type):
            # Exact builtin type: subclasses such as numpy.float64 or IntEnum trip yaml.safe_dump.
            return value.value if isinstance(value, enum.Enum) else plain_type(value)
    if isinstance(value, Namespace):
        value = vars(value)
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(item) for item in value]
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if _is_low_precision_float(value):
        return _short_floats(value)
    tolist = getattr(value, "tolist", None)  # torch.Tensor, numpy arrays and numpy scalars
    if callable(tolist) and hasattr(value, "shape"):
        try:
            return to_plain(tolist())
        except Exception:  # noqa: BLE001 - fall through to str() for exotic array types
            pass
    if isinstance(value, type) or callable(value):
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        if qualname:
            return f"{module}.{qualname}" if module and module != "builtins" else qualname
    return str(value)


def _is_low_precision_float(value: Any) -> bool:
    dtype = str(getattr(value, "dtype", ""))
    return hasattr(value, "shape") and dtype.split(".")[-1] in ("float32", "float16", "bfloat16")


def _short_floats(value: Any) -> Any:
    """float32/16 values as the shortest decimal that round-trips in float32 (0.1, not 0.10000000149011612)."""
    import numpy as np

    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().float().numpy()
    array = np.asarray(value, dtype=np.float32)

    def convert(item: Any) -> Any:
        if isinstance(item, list):
            return [convert(sub) for sub in item]
        return float(str(np.float32(item)))

    return convert(array.tolist())


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``.

    A reader (the studio polling metrics.csv) never sees a half-written file, and a crash leaves the old one.
    """
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_hparams_to_yaml(path: str, params: Mapping[str, Any] | Namespace | None) -> None:
    """Write ``params`` (converted with :func:`to_plain`) to ``path`` as block-style YAML, atomically."""
    # Imported here: the loading package imports the engine, which imports the loggers.
    from trainer_core.loading.config import dump_yaml

    # Written by the same rules load_hparams_from_yaml reads with: a name such as "0E0" is quoted (a bare one read
    # back as the float 0.0) and U+0085 is escaped (written raw, it read back as a space).
    atomic_write_text(path, dump_yaml(to_plain(params if params is not None else {})))


def load_hparams_from_yaml(path: str) -> dict[str, Any]:
    """Read an ``hparams.yaml`` back as a dict (empty dict for an empty file).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        trainer_core.loading.errors.ConfigError: the file is not YAML, not a mapping, too big or too deeply nested
            (the message names the file).
    """
    # Imported here: the loading package imports the engine, which imports the loggers.
    from trainer_core.loading.config import read_yaml_file
    from trainer_core.loading.errors import ConfigError

    loaded = read_yaml_file(path, f"Hyper-parameter file {path}")
    if not loaded:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"Hyper-parameter file {path} holds a {type(loaded).__name__}, not a mapping of names to "
                          "values; it is not an hparams.yaml")
    return loaded
