"""List the LightningModule / LightningDataModule classes of a script and their constructor arguments, by parsing.

The GUI process never runs the user's script (it may import torch, download data or take minutes); the ``ast``
module tells us enough: the classes whose bases name ``LightningModule``/``LightningDataModule`` (directly, through
an alias such as ``pl.LightningModule``, or through another class of the same file), and each ``__init__``
parameter with its annotation and default, which the model form turns into fields.

Examples:
    >>> info = parse_source("import trainer_core as pl\\nclass M(pl.LightningModule):\\n"
    ...                     "    def __init__(self, hidden: int = 32, lr=1e-3):\\n        super().__init__()\\n")
    >>> [(p.name, p.kind, p.default) for p in info.modules[0].params]
    [('hidden', 'int', 32), ('lr', 'float', 0.001)]
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MISSING", "ParamInfo", "ClassInfo", "ScriptInfo", "parse_script", "parse_source"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

_SIMPLE = {"int": "int", "float": "float", "bool": "bool", "str": "str"}
_LITERAL_KINDS = {"list", "tuple", "dict", "List", "Tuple", "Dict", "Sequence", "Mapping", "set", "Set"}


@dataclass
class ParamInfo:
    """One constructor parameter.

    Attributes:
        name: parameter name.
        kind: ``int``, ``float``, ``bool``, ``str``, ``choice`` (``Literal[...]``), ``literal`` (any Python literal
            typed as text: lists, dicts, tuples, None) or ``unsupported``.
        annotation: the annotation's source text ("" when absent).
        default: the default value, or :data:`MISSING`.
        default_source: the default's source text ("" when absent).
        optional: the annotation allows None.
        choices: accepted values for ``choice``.
        message: why the form cannot express this parameter (``unsupported`` only).
    """

    name: str
    kind: str
    annotation: str = ""
    default: Any = MISSING
    default_source: str = ""
    optional: bool = False
    choices: tuple[Any, ...] = ()
    message: str = ""

    @property
    def required(self) -> bool:
        """True when the script gives no default."""
        return self.default is MISSING and not self.default_source


@dataclass
class ClassInfo:
    """A LightningModule or LightningDataModule class found in the script."""

    name: str
    line: int
    role: str  # "module" | "datamodule"
    params: list[ParamInfo] = field(default_factory=list)
    doc: str = ""
    takes_var_kwargs: bool = False
    methods: frozenset[str] = frozenset()
    """Methods defined by the class and its bases in the same script."""
    foreign_bases: bool = False
    """A base class comes from elsewhere (another module), so it may define more methods."""

    def may_define(self, method: str) -> bool:
        """False only when the class certainly lacks ``method`` (e.g. no ``test_step``: the Test mode cannot run)."""
        return self.foreign_bases or method in self.methods


@dataclass
class ScriptInfo:
    """What the script defines, or why it could not be read."""

    path: str
    modules: list[ClassInfo] = field(default_factory=list)
    datamodules: list[ClassInfo] = field(default_factory=list)
    error: str = ""

    def find(self, name: str | None, role: str = "module") -> ClassInfo | None:
        """The class called ``name`` (the only one when ``name`` is None and there is exactly one)."""
        pool = self.modules if role == "module" else self.datamodules
        if name is None:
            return pool[0] if len(pool) == 1 else None
        return next((c for c in pool if c.name == name), None)


def parse_script(path: str | os.PathLike[str]) -> ScriptInfo:
    """Parse the script at ``path``; problems are reported in ``ScriptInfo.error``, never raised."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except OSError as error:
        return ScriptInfo(path, error=f"Cannot read {path}: {error.strerror or error}. Choose another file.")
    except UnicodeDecodeError:
        return ScriptInfo(path, error=f"{path} is not a UTF-8 text file. Choose a Python script (.py).")
    return parse_source(source, path)


def parse_source(source: str, path: str = "<script>") -> ScriptInfo:
    """Parse Python ``source``; see :func:`parse_script`."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        return ScriptInfo(
            path,
            error=f"{path}, line {error.lineno}: syntax error ({error.msg}). Fix the script and open it again.",
        )
    info = ScriptInfo(path)
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    roles: dict[str, str] = {}

    def role_of(name: str, seen: frozenset[str] = frozenset()) -> str | None:
        if name in roles:
            return roles[name]
        node = classes.get(name)
        if node is None or name in seen:
            return None
        for base in node.bases:
            base_name = _dotted_tail(base)
            if base_name == "LightningDataModule":
                return "datamodule"
            if base_name == "LightningModule":
                return "module"
            if base_name in classes:
                found = role_of(base_name, seen | {name})
                if found:
                    return found
        return None

    for name, node in classes.items():
        role = role_of(name)
        if role is None:
            continue
        roles[name] = role
        init = _find_init(node, classes)
        cls = ClassInfo(name, node.lineno, role, doc=(ast.get_docstring(node) or "").strip().split("\n\n")[0])
        if init is not None:
            cls.params, cls.takes_var_kwargs = _params(init)
        cls.methods, cls.foreign_bases = _methods(node, classes)
        (info.modules if role == "module" else info.datamodules).append(cls)
    if not info.modules and not info.datamodules:
        info.error = (
            f"{path} defines no LightningModule subclass. Add a class such as "
            "`class MyModel(pl.LightningModule)` (with `import trainer_core as pl`), or choose another script."
        )
    return info


def _dotted_tail(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _dotted_tail(node.value)
    return ""


_LIGHTNING_BASES = ("LightningModule", "LightningDataModule", "object", "Generic")


def _methods(node: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> tuple[frozenset[str], bool]:
    """(names defined in ``node`` and its in-script bases, whether a base comes from elsewhere)."""
    names: set[str] = set()
    foreign = False
    todo, seen = [node], set()
    while todo:
        current = todo.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        for item in current.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(item.name)
            elif isinstance(item, ast.Assign):
                names.update(t.id for t in item.targets if isinstance(t, ast.Name))
        for base in current.bases:
            tail = _dotted_tail(base)
            if tail in classes:
                todo.append(classes[tail])
            elif tail not in _LIGHTNING_BASES:
                foreign = True
    return frozenset(names), foreign


def _find_init(node: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> ast.FunctionDef | None:
    seen: set[str] = set()
    current: ast.ClassDef | None = node
    while current is not None and current.name not in seen:
        seen.add(current.name)
        for item in current.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                return item
        current = next((classes[_dotted_tail(b)] for b in current.bases if _dotted_tail(b) in classes), None)
    return None


def _params(init: ast.FunctionDef) -> tuple[list[ParamInfo], bool]:
    args = init.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults))[1:]  # drop self
    pairs += list(zip(args.kwonlyargs, args.kw_defaults))
    params = [_param(arg, default) for arg, default in pairs]
    if args.vararg is not None:
        params.append(ParamInfo(args.vararg.arg, "unsupported", message=(
            f"*{args.vararg.arg} cannot be filled from the form; it is left empty.")))
    return params, args.kwarg is not None


def _param(arg: ast.arg, default: ast.expr | None) -> ParamInfo:
    annotation = ast.unparse(arg.annotation) if arg.annotation is not None else ""
    param = ParamInfo(arg.arg, "unsupported", annotation=annotation)
    if default is not None:
        param.default_source = ast.unparse(default)
        try:
            param.default = ast.literal_eval(default)
        except (ValueError, SyntaxError, TypeError):
            param.default = MISSING
    kind, optional, choices = _kind_from_annotation(arg.annotation)
    if kind is None and param.default is not MISSING:
        kind = _kind_from_value(param.default)
        optional = optional or param.default is None
    param.optional = optional or param.default is None
    param.choices = choices
    if kind is None:
        if param.default_source and param.default is MISSING:
            param.message = (f"`{arg.arg}` defaults to `{param.default_source}`, which the form cannot edit; "
                             "the script's default is used.")
        elif annotation:
            param.message = (f"`{arg.arg}: {annotation}` cannot be typed into a form. Give it a default in the "
                             "script, or use a plain type (int, float, bool, str, list, dict, Literal[...]).")
        else:
            param.message = (f"`{arg.arg}` has no annotation and no default, so its type is unknown; it is "
                             "entered as a Python literal (e.g. 3, 0.1, 'text', [1, 2]).")
            kind = "literal"
        param.kind = kind or "unsupported"
    else:
        param.kind = kind
    return param


def _kind_from_value(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    for python_type, name in ((int, "int"), (float, "float"), (str, "str")):
        if isinstance(value, python_type):
            return name
    if value is None or isinstance(value, (list, tuple, dict, set)):
        return "literal"
    return None


def _kind_from_annotation(node: ast.expr | None) -> tuple[str | None, bool, tuple[Any, ...]]:
    """(kind, allows None, choices) for an annotation node; kind None when the form cannot express it."""
    if node is None:
        return None, False, ()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # string annotation
        try:
            return _kind_from_annotation(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None, False, ()
    if isinstance(node, ast.Constant) and node.value is None:
        return "literal", True, ()
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
        parts = _union_parts(node)
        return _union_kind(parts)
    name = _dotted_tail(node)
    if isinstance(node, ast.Subscript):
        inner = node.slice
        if name == "Optional":
            kind, _, choices = _kind_from_annotation(inner)
            return kind, True, choices
        if name == "Union":
            parts = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
            return _union_kind(parts)
        if name == "Literal":
            values = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
            try:
                choices = tuple(ast.literal_eval(v) for v in values)
            except (ValueError, SyntaxError):
                return None, False, ()
            return "choice", None in choices, tuple(c for c in choices if c is not None)
        if name in _LITERAL_KINDS:
            return "literal", False, ()
        return None, False, ()
    if name in _SIMPLE:
        return _SIMPLE[name], False, ()
    if name in _LITERAL_KINDS:
        return "literal", False, ()
    return None, False, ()


def _union_parts(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_parts(node.left) + _union_parts(node.right)
    return [node]


def _union_kind(parts: list[ast.expr]) -> tuple[str | None, bool, tuple[Any, ...]]:
    optional = any(isinstance(p, ast.Constant) and p.value is None for p in parts)
    rest = [p for p in parts if not (isinstance(p, ast.Constant) and p.value is None)]
    if len(rest) == 1:
        kind, _, choices = _kind_from_annotation(rest[0])
        return kind, optional, choices
    kinds = {_kind_from_annotation(p)[0] for p in rest}
    if kinds <= {"int", "float"}:
        return "float", optional, ()
    if None in kinds:
        return None, optional, ()
    return "literal", optional, ()
