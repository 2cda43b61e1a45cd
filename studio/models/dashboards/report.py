"""Exports without Qt: visible series to CSV and the one-click run report (self-contained HTML, or Markdown with
the plot PNGs in a sibling folder).

Examples:
    >>> import numpy as np
    >>> print(series_csv({"loss": (np.array([0.0, 1.0]), np.array([1.0, 0.5]))}), end="")
    step,loss
    0,1
    1,0.5
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from studio.models.dashboards.tables import Table, to_markdown

__all__ = ["series_csv", "RunReport", "write_report"]


def _fmt(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.10g}"


def series_csv(series: dict[str, tuple[np.ndarray, np.ndarray]], x_name: str = "step") -> str:
    """All series in one CSV: a row per distinct x, one column per series (empty where it has no point)."""
    names = list(series)
    if not names:
        return f"{x_name}\n"
    xs = np.unique(np.concatenate([np.asarray(series[n][0], dtype=np.float64) for n in names]))
    columns = []
    for name in names:
        x, y = (np.asarray(a, dtype=np.float64) for a in series[name])
        column = np.full(len(xs), np.nan)
        if len(x):
            # Where a series has several points at one x the last one wins (np.unique keeps the first index).
            rev_x, rev_i = np.unique(x[::-1], return_index=True)
            column[np.searchsorted(xs, rev_x)] = y[::-1][rev_i]
        columns.append(column)
    lines = [",".join([x_name, *(n.replace(",", ";") for n in names)])]
    for row, x_value in enumerate(xs):
        cells = [_fmt(x_value)] + ["" if math.isnan(c[row]) else _fmt(c[row]) for c in columns]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


class RunReport:
    """Content of a run report.

    Attributes:
        title: heading.
        facts: (label, value) pairs (status, mode, duration, folder).
        config: the run's configuration dict.
        metrics: final metric values.
        tables: summary/profiler/checkpoint tables.
        images: (caption, PNG bytes) of the plots.
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.facts: list[tuple[str, str]] = []
        self.config: dict[str, Any] = {}
        self.metrics: dict[str, float] = {}
        self.tables: list[Table] = []
        self.images: list[tuple[str, bytes]] = []

    def metrics_table(self) -> Table:
        """The final metrics as a two-column table (sorted by name)."""
        return Table(["Metric", "Value"], [[k, float(v)] for k, v in sorted(self.metrics.items())], "Final metrics")


_DEFAULT_SPEC = {"trust_checkpoint": False, "debug": "fast_dev_run", "tune": {}, "ckpt_path": None, "seed": None,
                 "data": None, "model_class": None, "model_init_args": {}}


def readable_config(config: dict[str, Any]) -> dict[str, Any]:
    """The run configuration as a reader wants it: empty values and settings left at their defaults dropped.

    ``trainer_flags`` holds only what the run set (the studio sends nothing else); the studio's own switch for the
    progress bar (off because the status strip replaces it) is left out too, since the user never set it.
    """
    out: dict[str, Any] = {}
    mode = config.get("mode")
    for key, value in config.items():
        if value is None or value == {} or value == [] or (key in _DEFAULT_SPEC and value == _DEFAULT_SPEC[key]):
            continue
        if key == "debug" and mode != "debug":
            continue
        if key == "tune" and mode != "tune":
            continue
        if key in ("trainer_flags", "trainer") and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "enable_progress_bar" or v is not False}
            if not value:
                continue
        out[key] = value
    return out


def _config_text(config: dict[str, Any]) -> str:
    try:
        import yaml

        return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)
    except Exception:  # PyYAML missing or an odd value: JSON is always possible
        return json.dumps(config, indent=2, default=repr)


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = []
    for row in table.rows:
        cells = "".join(f"<td>{html.escape(f'{v:.6g}' if isinstance(v, float) else str(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{''.join(body)}</table>"


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:0.5em 0}"
        "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f0f0f0}"
        "pre{background:#f7f7f7;padding:1em;overflow:auto}img{max-width:100%;border:1px solid #ddd}")


def write_report(report: RunReport, path: str | Path) -> Path:
    """Write ``report`` as HTML (``.html``/``.htm``; images inline) or Markdown (PNGs in ``{stem}_files/``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    tables = [report.metrics_table(), *report.tables] if report.metrics else list(report.tables)
    if path.suffix.lower() in (".html", ".htm"):
        parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(report.title)}</title>"
                 f"<style>{_CSS}</style></head><body><h1>{html.escape(report.title)}</h1>",
                 f"<p><i>Written by Training Studio on {stamp}</i></p><ul>"]
        parts += [f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in report.facts]
        parts.append("</ul>")
        for caption, png in report.images:
            data = base64.b64encode(png).decode("ascii")
            parts.append(f"<h2>{html.escape(caption)}</h2><img alt='{html.escape(caption)}' "
                         f"src='data:image/png;base64,{data}'>")
        parts += [_html_table(t) for t in tables]
        parts.append(f"<h2>Configuration</h2><pre>{html.escape(_config_text(report.config))}</pre></body></html>")
        path.write_text("".join(parts), encoding="utf-8")
        return path
    folder = path.with_name(path.stem + "_files")
    lines = [f"# {report.title}", "", f"_Written by Training Studio on {stamp}_", ""]
    lines += [f"- **{k}**: {v}" for k, v in report.facts] + [""]
    if report.images:
        folder.mkdir(exist_ok=True)
    for number, (caption, png) in enumerate(report.images):
        # At most 60 characters of the caption: a long caption made a name past the file system's 255 bytes.
        name = f"plot{number}_{''.join(c if c.isalnum() else '_' for c in caption.lower())[:60]}.png"
        (folder / name).write_bytes(png)
        lines += [f"## {caption}", "", f"![{caption}]({folder.name}/{name})", ""]
    for table in tables:
        lines += [f"## {table.title}", "", to_markdown(table)]
    lines += ["## Configuration", "", "```yaml", _config_text(report.config).rstrip(), "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
