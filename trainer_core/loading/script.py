"""Import a user's script by path and find the Lightning classes in it.

The command line and the studio's worker both go through here, so a script with a syntax error, a missing import
or no (or too many) LightningModule classes gets the same one-paragraph message everywhere.

Examples:
    >>> module = import_script("resources/examples/mlp.py")          # doctest: +SKIP
    >>> model_cls = load_model_class("resources/examples/mlp.py")     # the only LightningModule in it  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from trainer_core.loading.errors import ScriptError

__all__ = [
    "ClassInfo",
    "import_script",
    "list_classes",
    "pick_class",
    "load_model_class",
    "load_datamodule_class",
    "split_class_ref",
]

# Packages whose absence means the script was written for real Lightning: the fix is a one-line import change.
_LIGHTNING_PACKAGES = ("pytorch_lightning", "lightning")


@dataclass(frozen=True)
class ClassInfo:
    """A class found in a script.

    Attributes:
        name: the class name.
        line: the line of its ``class`` statement (0 when unknown).
        cls: the class object.
    """

    name: str
    line: int
    cls: type


def split_class_ref(text: str) -> tuple[str, str | None]:
    """Split ``"path/to/script.py:ClassName"`` into the path and the class name (None when absent).

    Only a colon after a ``.py`` path separates a class name, so Windows drive letters (``C:\\x.py``) survive.
    """
    head, sep, tail = text.rpartition(":")
    if sep and head.endswith(".py") and tail.isidentifier():
        return head, tail
    return text, None


def _module_name(path: Path) -> str:
    # Unique per file, stable per path: two scripts both called model.py never collide in sys.modules, and the
    # name is a valid identifier so pickling and dataclasses inside the script work.
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"_trainer_core_script_{stem}_{digest}"


def _line_in(path: Path, err: BaseException) -> int | None:
    """The last line of ``path`` in the traceback of ``err``: where the user's code failed."""
    line = None
    for frame in traceback.extract_tb(err.__traceback__):
        if os.path.abspath(frame.filename) == str(path):
            line = frame.lineno
    return line


def _source_line(path: Path, line: int | None) -> str:
    if not line:
        return ""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""
    return f" (`{text}`)" if text else ""


def import_script(path: str | os.PathLike[str]) -> ModuleType:
    """Import a Python file as a fresh module and return it.

    The script's folder is put on ``sys.path`` (first) so it can import modules that sit beside it. Code under
    ``if __name__ == "__main__":`` does not run.

    Raises:
        ScriptError: the file is missing, is not a ``.py`` file, has a syntax error, or raised while importing
            (the message names the file, the line and the exception).
    """
    script = Path(path).expanduser()
    shown = str(path)
    if not script.is_file():
        where = "is a folder, not a Python file" if script.is_dir() else "does not exist"
        raise ScriptError(f"Script {shown} {where}. Give the path of a .py file that defines your LightningModule "
                          f"(relative paths are taken from {os.getcwd()}).", path=shown)
    if script.suffix != ".py":
        raise ScriptError(f"Script {shown} is not a .py file. Give the Python file that defines your model.",
                          path=shown)
    script = script.resolve()
    name = _module_name(script)
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:  # pragma: no cover - only for exotic file systems
        raise ScriptError(f"Python cannot load {shown} as a module.", path=shown)
    module = importlib.util.module_from_spec(spec)
    folder = str(script.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        sys.modules.pop(name, None)
        line = err.lineno
        code = (err.text or "").strip()
        shown_code = f" in `{code}`" if code else ""
        raise ScriptError(f"{shown}, line {line}: syntax error{shown_code}: {err.msg}. Fix the script and run again.",
                          path=shown, line=line) from err
    except ImportError as err:
        sys.modules.pop(name, None)
        line = _line_in(script, err)
        missing = getattr(err, "name", None) or ""
        if missing.split(".")[0] in _LIGHTNING_PACKAGES:
            fix = ("This script was written for PyTorch Lightning: change the import to "
                   "`import trainer_core as pl` (the API is the same).")
        elif isinstance(err, ModuleNotFoundError) and missing:
            fix = (f"Install `{missing.split('.')[0]}` into the Python environment that runs training "
                   f"({sys.executable}), or remove the import.")
        else:
            fix = "Check the name being imported and that its package is installed."
        raise ScriptError(f"{shown}, line {line}{_source_line(script, line)}: import failed: {err}. {fix}",
                          path=shown, line=line) from err
    except BaseException as err:  # noqa: B036 - user code may raise anything, even SystemExit, while importing
        sys.modules.pop(name, None)
        if isinstance(err, KeyboardInterrupt):
            raise
        line = _line_in(script, err)
        raise ScriptError(
            f"{shown}, line {line}{_source_line(script, line)}: the script raised {type(err).__name__}: {err} while "
            "being imported. Code that should only run when the file is executed directly belongs under "
            '`if __name__ == "__main__":`.',
            path=shown, line=line,
        ) from err
    return module


def list_classes(module: ModuleType, base: type) -> list[ClassInfo]:
    """The subclasses of ``base`` defined in ``module`` (not imported into it), in source order.

    A class that another found class derives from (a shared base such as ``BaseModel``) is left out, so a script
    with ``BaseModel`` and ``Net(BaseModel)`` has one candidate.
    """
    found = []
    for obj in vars(module).values():
        if inspect.isclass(obj) and obj is not base and issubclass(obj, base) and obj.__module__ == module.__name__:
            found.append(obj)
    leaves = [c for c in found if not any(other is not c and issubclass(other, c) for other in found)]
    infos = []
    for cls in leaves:
        try:
            line = inspect.getsourcelines(cls)[1]
        except (OSError, TypeError):
            line = 0
        infos.append(ClassInfo(cls.__name__, line, cls))
    return sorted(infos, key=lambda info: info.line)


def _describe(infos: list[ClassInfo]) -> str:
    return ", ".join(f"{i.name} (line {i.line})" if i.line else i.name for i in infos)


def pick_class(module: ModuleType, base: type, name: str | None, *, path: str, option: str) -> type:
    """The class ``name`` from ``module`` (or the only candidate when ``name`` is None), checked against ``base``.

    Args:
        module: the imported script.
        base: ``LightningModule`` or ``LightningDataModule``.
        name: the class asked for, or None to pick the only candidate.
        path: the script path as the user gave it (for messages).
        option: how the user names a class, for the hint (e.g. ``"--model"``).

    Raises:
        ScriptError: no candidate, several candidates, a missing name, or a class that is not a ``base`` subclass.
    """
    kind = base.__name__
    infos = list_classes(module, base)
    names = [i.name for i in infos]
    if name is not None:
        obj = getattr(module, name, None)
        if obj is None:
            close = difflib.get_close_matches(name, names or [n for n in vars(module) if n[:1].isupper()], n=1)
            tip = f" Did you mean `{close[0]}`?" if close else ""
            listing = f" {kind} classes in it: {_describe(infos)}." if infos else f" It defines no {kind} class."
            raise ScriptError(f"{path} has no class `{name}`.{tip}{listing}", path=path, candidates=names)
        if not (inspect.isclass(obj) and issubclass(obj, base)):
            what = f"derives from {', '.join(b.__name__ for b in obj.__bases__)}" if inspect.isclass(obj) else (
                f"is a {type(obj).__name__}, not a class")
            listing = f" {kind} classes in it: {_describe(infos)}." if infos else ""
            raise ScriptError(f"`{name}` in {path} is not a {kind} subclass (it {what}).{listing}",
                              path=path, candidates=names)
        return obj
    if len(infos) == 1:
        return infos[0].cls
    if not infos:
        foreign = [n for n, o in vars(module).items() if inspect.isclass(o) and o.__module__ == module.__name__
                   and any(b.__name__ == kind for b in inspect.getmro(o)[1:])]
        hint = (f" `{foreign[0]}` derives from another library's {kind}: import it with `import trainer_core as pl`."
                if foreign else f" Define one with `class {'MyData' if 'Data' in kind else 'MyModel'}(pl.{kind}):` "
                "after `import trainer_core as pl`.")
        raise ScriptError(f"{path} defines no {kind} subclass.{hint}", path=path)
    raise ScriptError(
        f"{path} defines {len(infos)} {kind} classes: {_describe(infos)}. Say which one to use, e.g. "
        f"{option} {path}:{infos[-1].name} (in a config file: the `class` key).",
        path=path, candidates=names,
    )


def load_model_class(path: str, name: str | None = None) -> type:
    """Import ``path`` and return its LightningModule class (``name``, or the only one)."""
    from trainer_core.module import LightningModule

    return pick_class(import_script(path), LightningModule, name, path=path, option="--model")


def load_datamodule_class(path: str, name: str | None = None) -> type:
    """Import ``path`` and return its LightningDataModule class (``name``, or the only one)."""
    from trainer_core.datamodule import LightningDataModule

    return pick_class(import_script(path), LightningDataModule, name, path=path, option="--data")
