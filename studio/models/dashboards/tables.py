"""Tables of the weights summary and the profiler reports, and their CSV/Markdown forms.

A ``model_summary`` event comes in two shapes: the recorder's own (``layers`` of the top-level children, totals)
and the ModelSummary callback's table (``rows`` with in/out sizes, ``non_trainable_params``, ``model_size_mb``,
``max_depth``). The richest one received wins; "top" keeps the rows without a dot in the name.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Table", "summary_table", "summary_totals", "profiler_tables", "to_csv", "to_markdown", "human_count"]


@dataclass
class Table:
    """Headers plus rows of plain values (numbers stay numbers so sorting is numeric)."""

    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    title: str = ""


def human_count(n: float) -> str:
    """``1234567`` -> ``"1.2 M"`` (Lightning's summary units)."""
    n = float(n)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return str(int(n))


def _best_summary(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    best = None
    for event in events:
        if best is None or "rows" in event or "rows" not in best:
            best = event
    return best


def summary_table(events: list[dict[str, Any]], depth: str = "full") -> Table:
    """The weights summary as a table; ``depth`` is "top" (direct children) or "full" (every layer received)."""
    event = _best_summary(events) or {}
    rows = event.get("rows") or event.get("layers") or []
    sizes = any(r.get("in_sizes") is not None for r in rows)
    headers = ["Name", "Type", "Params"] + (["In sizes", "Out sizes"] if sizes else [])
    table = Table(headers, title="Weights summary")
    for row in rows:
        name = str(row.get("name", ""))
        if depth == "top" and "." in name:
            continue
        values = [name, str(row.get("type", "")), int(row.get("params") or 0)]
        if sizes:
            values += [_size(row.get("in_sizes")), _size(row.get("out_sizes"))]
        table.rows.append(values)
    return table


def _size(value: Any) -> str:
    return "" if value is None else str(value)


def summary_totals(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Trainable / non-trainable / total params and the estimated size in MB (4 bytes a parameter if not given)."""
    event = _best_summary(events) or {}
    total = int(event.get("total_params") or 0)
    trainable = int(event.get("trainable_params") or 0)
    non_trainable = int(event.get("non_trainable_params", total - trainable) or 0)
    size = event.get("model_size_mb")
    return {"trainable": trainable, "non_trainable": non_trainable, "total": total,
            "size_mb": float(size) if size is not None else total * 4 / 1e6,
            "depth": event.get("max_depth"), "has_full": "rows" in event}


PROFILER_HEADERS = ["Action", "Mean (s)", "Calls", "Total (s)", "Percent"]


def profiler_tables(events: list[dict[str, Any]]) -> list[Table]:
    """One table per stage (the newest report of each stage), rows sorted by total time."""
    latest: dict[str, dict[str, Any]] = {}
    for event in events:
        latest[str(event.get("stage") or "run")] = event
    tables = []
    for stage, event in latest.items():
        table = Table(list(PROFILER_HEADERS), title=stage)
        for row in event.get("rows") or []:
            table.rows.append([str(row.get("action", "")), _f(row.get("mean_s")), int(row.get("num_calls") or 0),
                               _f(row.get("total_s")), _f(row.get("percent"))])
        table.rows.sort(key=lambda r: -r[3] if math.isfinite(r[3]) else 0.0)
        tables.append(table)
    return tables


def _f(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def to_csv(table: Table) -> str:
    """The table as CSV text (header line first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return out.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(table: Table) -> str:
    """The table as a GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(table.headers) + " |", "|" + "---|" * len(table.headers)]
    for row in table.rows:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"
