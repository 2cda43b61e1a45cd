"""The weights summary table printed at the start of ``fit`` (Lightning 1.5 layout).

``summarize(module, max_depth=1)`` measures a module once and returns a :class:`ModelSummaryTable`; ``str()`` of it
is the console table with its footer, ``rows()`` the same data as plain dicts for the studio.

Examples:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.BatchNorm1d(512))
    >>> table = summarize(net)
    >>> table.total_parameters
    132608
    >>> get_human_readable_count(table.total_parameters)
    '132 K'
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

__all__ = [
    "ModelSummary",
    "ModelSummaryTable",
    "summarize",
    "get_human_readable_count",
    "precision_to_bits",
    "UNKNOWN_SIZE",
]

UNKNOWN_SIZE = "?"
"""Shown for an input/output that is not a tensor, or for a layer the example forward never called."""

_UNITS = (" ", "K", "M", "B", "T")


def get_human_readable_count(number: int) -> str:
    """Abbreviate a parameter count the way the 1.x summary does.

    Groups of three digits pick the unit (blank, K, M, B, T); below 1000 the integer is printed; a scaled value of 100
    or more prints as an integer, otherwise with one decimal; counts beyond trillions stay in T with separators.

    Args:
        number: A non-negative count.

    Returns:
        For example ``"0  "``, ``"999  "``, ``"1.2 K"``, ``"132 K"``, ``"2.0 M"``, ``"5,000 T"``.

    Raises:
        ValueError: If ``number`` is negative.
    """
    if number < 0:
        raise ValueError(f"get_human_readable_count expects a non-negative count, got {number}.")
    number = int(number)
    index = min((len(str(number)) - 1) // 3, len(_UNITS) - 1)
    divisor = 1000**index
    # Integer division for the integer form: multiplying by 1e-12 can land just below 5000 and print "4,999 T".
    if index == 0 or number >= 100 * divisor:
        return f"{number // divisor:,d} {_UNITS[index]}"
    return f"{number / divisor:,.1f} {_UNITS[index]}"


def precision_to_bits(precision: int | str | None) -> int:
    """Bits per parameter used for the size estimate: the declared precision (``"16-mixed"`` -> 16, ``"bf16"`` -> 16).

    Args:
        precision: A Trainer ``precision`` value (1.x int/str or 2.x string), or None for 32.

    Returns:
        The number of bits, 32 when the value names none.
    """
    if precision is None:
        return 32
    if isinstance(precision, int):
        return precision
    match = re.search(r"(\d+)", str(precision))
    return int(match.group(1)) if match else 32


def _shape_of(value: Any) -> Any:
    """A tensor's shape as a list; nested lists for tuples/lists of tensors; ``"?"`` for anything else."""
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, (list, tuple)):
        return [_shape_of(item) for item in value]
    return UNKNOWN_SIZE


def _count(params: Iterator[nn.Parameter]) -> tuple[int, int, bool]:
    """(total, trainable, saw_lazy) for an iterator of parameters; lazy (uninitialized) ones count 0."""
    total = trainable = 0
    saw_lazy = False
    for param in params:
        if isinstance(param, nn.parameter.UninitializedParameter):
            saw_lazy = True
            continue
        total += param.numel()
        if param.requires_grad:
            trainable += param.numel()
    return total, trainable, saw_lazy


class ModelSummaryTable:
    """A measured summary of a module: one row per summarised layer plus the parameter totals.

    Build it with :func:`summarize`. ``str(table)`` gives the 1.5 console table; :meth:`rows` gives plain data.

    Attributes:
        max_depth: Depth used to pick the layers (-1: every submodule).
        precision_bits: Bits per parameter used for :attr:`model_size_mb`.
        total_parameters: All parameters of the module.
        trainable_parameters: Parameters with ``requires_grad``.
        has_sizes: Whether in/out sizes were captured (the module has an ``example_input_array``).
    """

    def __init__(self, module: nn.Module, max_depth: int = 1, precision: int | str | None = 32) -> None:
        if not isinstance(max_depth, int) or max_depth < -1:
            raise ValueError(f"`max_depth` must be an int >= -1 (-1 lists every submodule), got {max_depth!r}.")
        self.max_depth = max_depth
        self.precision_bits = precision_to_bits(precision)
        self._layers = self._pick_layers(module, max_depth)
        self._in: dict[str, Any] = {}
        self._out: dict[str, Any] = {}
        self.has_sizes = getattr(module, "example_input_array", None) is not None
        if self.has_sizes:
            self._capture_sizes(module)
        total, trainable, saw_lazy = _count(module.parameters())
        if saw_lazy:
            warnings.warn(
                "The model has lazy (not yet initialized) parameters; they count as 0 in the summary. Run one batch "
                "through the model first to see their real size.",
                UserWarning,
                stacklevel=3,
            )
        self.total_parameters = total
        self.trainable_parameters = trainable
        self._layer_params = [_count(layer.parameters())[0] for _, layer in self._layers]

    @staticmethod
    def _pick_layers(module: nn.Module, max_depth: int) -> list[tuple[str, nn.Module]]:
        if max_depth == 0:
            return []
        layers = [(name, sub) for name, sub in module.named_modules() if name]
        if max_depth > 0:
            layers = [(name, sub) for name, sub in layers if name.count(".") < max_depth]
        return layers

    def _capture_sizes(self, module: nn.Module) -> None:
        """One no-grad, eval-mode forward of ``example_input_array`` with hooks recording shapes."""
        handles = []
        for name, layer in self._layers:
            handles.append(layer.register_forward_hook(self._make_hook(name)))
        example = self._prepare_example(module, module.example_input_array)  # type: ignore[attr-defined]
        was_training = module.training
        try:
            module.eval()
            with torch.no_grad():
                if isinstance(example, dict):
                    module(**example)
                elif isinstance(example, (list, tuple)):
                    module(*example)
                else:
                    module(example)
        except Exception as err:  # noqa: BLE001 - the summary is informative; the real forward reports real errors
            warnings.warn(
                f"The summary could not run `example_input_array` through {type(module).__name__} "
                f"({type(err).__name__}: {err}); sizes of layers it did not reach show '?'. Check that the example "
                "matches what forward() expects (a tensor, a tuple of positional inputs or a dict of keywords).",
                UserWarning,
                stacklevel=4,
            )
        finally:
            for handle in handles:
                handle.remove()
            module.train(was_training)

    def _make_hook(self, name: str) -> Any:
        def hook(_layer: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            # A single positional input shows as its own shape, not as a one-element list (as 1.x prints it).
            self._in[name] = _shape_of(inputs[0] if len(inputs) == 1 else inputs)
            self._out[name] = _shape_of(output)

        return hook

    @staticmethod
    def _prepare_example(module: nn.Module, example: Any) -> Any:
        """Move the example to the module's device and floating dtype so the forward runs as in training."""
        param = next((p for p in module.parameters() if not isinstance(p, nn.parameter.UninitializedParameter)), None)
        if param is None:
            return example

        def move(value: Any) -> Any:
            if isinstance(value, torch.Tensor):
                dtype = param.dtype if value.is_floating_point() and param.is_floating_point() else value.dtype
                return value.to(device=param.device, dtype=dtype)
            if isinstance(value, dict):
                return {key: move(item) for key, item in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(move(item) for item in value)
            return value

        return move(example)

    # --- results ------------------------------------------------------------------------------------------------
    @property
    def non_trainable_parameters(self) -> int:
        """Parameters without ``requires_grad``."""
        return self.total_parameters - self.trainable_parameters

    @property
    def model_size_mb(self) -> float:
        """Estimated size of the parameters in MB: params x bits / 8 x 1e-6."""
        return self.total_parameters * self.precision_bits / 8 * 1e-6

    def rows(self) -> list[dict[str, Any]]:
        """The table as data: one dict per layer with ``name``, ``type``, ``params`` (int), ``in_sizes``, ``out_sizes``.

        ``in_sizes``/``out_sizes`` are shape lists, ``"?"`` for layers the example forward did not reach, and None
        when the module has no ``example_input_array``.
        """
        return [
            {
                "name": name,
                "type": type(layer).__name__,
                "params": count,
                "in_sizes": self._in.get(name, UNKNOWN_SIZE) if self.has_sizes else None,
                "out_sizes": self._out.get(name, UNKNOWN_SIZE) if self.has_sizes else None,
            }
            for (name, layer), count in zip(self._layers, self._layer_params)
        ]

    def to_dict(self) -> dict[str, Any]:
        """Rows plus totals, JSON-ready (what the studio receives)."""
        return {
            "rows": self.rows(),
            "trainable_params": self.trainable_parameters,
            "non_trainable_params": self.non_trainable_parameters,
            "total_params": self.total_parameters,
            "model_size_mb": self.model_size_mb,
            "max_depth": self.max_depth,
        }

    def __str__(self) -> str:
        rows = self.rows()
        columns: list[tuple[str, list[str]]] = [
            (" ", [str(i) for i in range(len(rows))]),
            ("Name", [row["name"] for row in rows]),
            ("Type", [row["type"] for row in rows]),
            ("Params", [get_human_readable_count(row["params"]) for row in rows]),
        ]
        if self.has_sizes:
            columns.append(("In sizes", [str(row["in_sizes"]) for row in rows]))
            columns.append(("Out sizes", [str(row["out_sizes"]) for row in rows]))
        widths = [max([len(header), *(len(cell) for cell in cells)]) for header, cells in columns]
        rule = "-" * (sum(widths) + 3 * (len(columns) + 1))
        lines = [" | ".join(header.ljust(width) for (header, _), width in zip(columns, widths)), rule]
        for i in range(len(rows)):
            lines.append(" | ".join(cells[i].ljust(width) for (_, cells), width in zip(columns, widths)))
        lines.append(rule)
        lines.append(f"{get_human_readable_count(self.trainable_parameters):<10}Trainable params")
        lines.append(f"{get_human_readable_count(self.non_trainable_parameters):<10}Non-trainable params")
        lines.append(f"{get_human_readable_count(self.total_parameters):<10}Total params")
        lines.append(f"{self.model_size_mb:<10,.3f}Total estimated model params size (MB)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def summarize(module: nn.Module, max_depth: int = 1, precision: int | str | None = 32) -> ModelSummaryTable:
    """Summarise ``module``: layers up to ``max_depth`` (1: direct children, -1: all), counts, sizes, MB.

    In/out sizes are filled when the module has an ``example_input_array`` (a tensor, a tuple of positional inputs
    or a dict of keyword inputs); it is run once in eval mode without gradients.

    Args:
        module: The model (any ``nn.Module``; the root itself is not a row).
        max_depth: 1 for "top", -1 for "full", k keeps names with fewer than k dots, 0 only the totals.
        precision: The declared precision (32, 16, 64, "bf16", "16-mixed", ...) used for the size estimate.

    Returns:
        The measured table.
    """
    return ModelSummaryTable(module, max_depth=max_depth, precision=precision)


# 1.5 spelling: ``pytorch_lightning.utilities.model_summary.ModelSummary(model, max_depth=1)``. The callback of the
# same name lives in ``trainer_core.callbacks``.
ModelSummary = ModelSummaryTable
