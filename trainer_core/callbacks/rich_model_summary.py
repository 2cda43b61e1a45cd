"""``RichModelSummary`` (1.5): the weights summary printed as a rich table."""

from __future__ import annotations

from typing import Any

from trainer_core.callbacks.model_summary import ModelSummary
from trainer_core.utilities.model_summary import get_human_readable_count, summarize

__all__ = ["RichModelSummary"]


class RichModelSummary(ModelSummary):
    """:class:`ModelSummary` drawn with rich (same ``max_depth`` and the same data for the studio)."""

    def __init__(self, max_depth: int = 1) -> None:
        try:
            import rich  # noqa: F401
        except ImportError as err:  # rich is a main dependency; this guards a broken install
            raise ImportError("RichModelSummary needs the `rich` package: pip install rich") from err
        super().__init__(max_depth=max_depth)

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        if self.max_depth == 0 or not getattr(trainer, "is_global_zero", True):
            return
        from rich.console import Console
        from rich.table import Table

        table = summarize(pl_module, max_depth=self.max_depth, precision=getattr(trainer, "precision", 32))
        self.last_summary = table
        rows = table.rows()
        sizes = any(row["in_sizes"] is not None for row in rows)
        view = Table(header_style="bold magenta")
        for column in (" ", "Name", "Type", "Params", *(("In sizes", "Out sizes") if sizes else ())):
            view.add_column(column)
        for index, row in enumerate(rows):
            cells = [str(index), row["name"], row["type"], get_human_readable_count(row["params"])]
            if sizes:
                cells += [str(row["in_sizes"]), str(row["out_sizes"])]
            view.add_row(*cells)
        console = Console()
        console.print(view)
        console.print(f"[bold]Trainable params[/]: {get_human_readable_count(table.trainable_parameters)}\n"
                      f"[bold]Non-trainable params[/]: {get_human_readable_count(table.non_trainable_parameters)}\n"
                      f"[bold]Total params[/]: {get_human_readable_count(table.total_parameters)}\n"
                      f"[bold]Total estimated model params size (MB)[/]: {table.model_size_mb:.3f}")
        telemetry = getattr(trainer, "_call_telemetry", None)
        if callable(telemetry):
            telemetry("on_model_summary", table.to_dict())
