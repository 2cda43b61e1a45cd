"""The benchmark runner: collects `benchmarks/bench_*.py`, runs them and prints one table.

Usage::

    python -m benchmarks                  # every CPU benchmark (a few minutes on 2 cores)
    python -m benchmarks --quick          # smoke run with tiny sizes (CI; under a minute)
    python -m benchmarks --gpu            # adds the CUDA benchmarks
    python -m benchmarks --only parity --markdown results.md

Each module exposes `run(quick: bool, gpu: bool) -> list[dict]` with rows `{"name", "ours", "baseline", "unit",
"ratio", "note"}`. A module that raises does not stop the others: its error becomes a row of the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.metadata
import math
import os
import pkgutil
import platform
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

from benchmarks import CLOCK_ENV, GPU_ONLY_ENV

__all__ = ["discover", "environment", "format_table", "main", "normalize_row", "run_modules"]

COLUMNS = ("benchmark", "ours", "baseline", "unit", "ratio", "note")
_PREFIX = "bench_"


def discover(package: str = "benchmarks", only: Sequence[str] = ()) -> list[str]:
    """Module names `package.bench_*`, sorted; `only` keeps those whose short name matches (with or without prefix).

    Raises:
        SystemExit: When `only` names a benchmark that does not exist (the message lists the existing ones).
    """
    pkg = importlib.import_module(package)
    names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith(_PREFIX))
    if not only:
        return [f"{package}.{n}" for n in names]
    wanted = {w.removeprefix(_PREFIX) for item in only for w in item.split(",") if w}
    short = {n.removeprefix(_PREFIX) for n in names}
    unknown = sorted(wanted - short)
    if unknown:
        raise SystemExit(
            f"unknown benchmark(s) {', '.join(unknown)}: choose from {', '.join(sorted(short))} "
            f"(files benchmarks/bench_<name>.py)"
        )
    return [f"{package}.{n}" for n in names if n.removeprefix(_PREFIX) in wanted]


def normalize_row(row: dict, module: str) -> dict:
    """Fills missing keys, coerces numbers to float and computes `ratio` when the module left it out."""
    out = {
        "name": str(row.get("name", f"{module}?")),
        "ours": _as_float(row.get("ours")),
        "baseline": _as_float(row.get("baseline")),
        "unit": str(row.get("unit", "")),
        "ratio": _as_float(row.get("ratio")),
        "note": str(row.get("note", "")),
    }
    if math.isnan(out["ratio"]) and out["baseline"] and not math.isnan(out["baseline"]):
        out["ratio"] = out["ours"] / out["baseline"]
    return out


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def run_modules(
    modules: Sequence[str],
    *,
    quick: bool,
    gpu: bool,
    echo: bool = True,
    on_progress: Callable[[list[dict]], None] | None = None,
) -> list[dict]:
    """Imports and runs each module; returns all rows (an error row for a module that failed).

    `on_progress(rows_so_far)` is called after each module, so a report survives a run that is cut short.
    """
    rows: list[dict] = []
    for name in modules:
        short = name.rsplit(".", 1)[-1].removeprefix(_PREFIX)
        start = time.perf_counter()
        try:
            module: ModuleType = importlib.import_module(name)
            produced = module.run(quick=quick, gpu=gpu)
            new = [normalize_row(r, short) for r in produced]
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others' figures
            last = traceback.extract_tb(exc.__traceback__)[-1]
            where = f"{Path(last.filename).name}:{last.lineno}"
            new = [normalize_row({"name": short, "note": f"error: {type(exc).__name__}: {exc} ({where})"}, short)]
            if echo:
                traceback.print_exc(file=sys.stderr)
        elapsed = time.perf_counter() - start
        if echo:
            print(f"[{short}] {len(new)} row(s) in {elapsed:.1f} s", file=sys.stderr, flush=True)
        rows.extend(new)
        if on_progress is not None:
            on_progress(rows)
    return rows


def _fmt_number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.001:
        return f"{value:.3g}" if abs(value) < 1e6 else f"{value:.3e}"
    return f"{value:.4g}"


def _fmt_ratio(value: float) -> str:
    return "-" if math.isnan(value) else ("inf" if math.isinf(value) else f"{value:.3f}x")


def format_table(rows: Sequence[dict], *, markdown: bool = False) -> str:
    """The table as aligned plain text, or as a GitHub Markdown table when `markdown` is True."""
    cells = [
        [r["name"], _fmt_number(r["ours"]), _fmt_number(r["baseline"]), r["unit"], _fmt_ratio(r["ratio"]), r["note"]]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(COLUMNS)]
    right = {1, 2, 4}  # numbers are right-aligned

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))]
        return "  ".join(parts).rstrip()

    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]), *(line(row) for row in cells)])


def environment() -> dict[str, str]:
    """Machine and versions for the report header (imports torch lazily so `--help` stays fast)."""
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node() or '?'} ({platform.machine()}, {_cpu_name()}, {os.cpu_count()} CPUs)",
        "python": platform.python_version(),
    }
    if hasattr(os, "getloadavg"):
        # Other processes steal time from the measured code: recorded so a noisy table can be recognised as such.
        info["load average at start"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    try:
        import torch

        info["torch"] = f"{torch.__version__} (threads {torch.get_num_threads()})"
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            info["gpu"] = f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    except Exception as exc:  # noqa: BLE001 - the header must never stop the run
        info["torch"] = f"not importable ({exc})"
    # Package metadata, not imports: importing Lightning takes seconds and the header must stay cheap.
    for label, dist in (("trainer_core", "training-studio"), ("lightning", "lightning")):
        try:
            info[label] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[label] = "from the checkout (not installed)" if label == "trainer_core" else "not installed"
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _markdown_report(rows: Sequence[dict], env: dict[str, str], mode: str, seconds: float) -> str:
    header = [f"### {env['date']} — {mode}", ""]
    header += [f"- {key}: {value}" for key, value in env.items() if key != "date"]
    header += [f"- wall time: {seconds:.0f} s", ""]
    return "\n".join(header) + "\n" + format_table(rows, markdown=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 unless the arguments are wrong)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run with tiny sizes (what CI runs)")
    parser.add_argument("--gpu", action="store_true", help="also run the CUDA benchmarks")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only bench_NAME (repeatable)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table and environment as Markdown")
    parser.add_argument(
        "--gpu-only", action="store_true", help="only the CUDA benchmarks (implies --gpu; what gpu_check.sh runs)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: these models are too small to gain from more, and spinning "
        "OpenMP threads on a shared machine make timings erratic; 0 keeps torch's default)",
    )
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="time CPU work by process CPU time (default: robust on a shared machine) or wall time; CUDA work is "
        "always timed on the wall clock",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmark modules and exit")
    parser.add_argument("--package", default="benchmarks", help=argparse.SUPPRESS)  # tests point it at fakes
    args = parser.parse_args(argv)

    modules = discover(args.package, only=args.only)
    if args.list:
        print("\n".join(m.rsplit(".", 1)[-1].removeprefix(_PREFIX) for m in modules))
        return 0
    if args.gpu_only:
        args.gpu = True
        os.environ[GPU_ONLY_ENV] = "1"
    os.environ[CLOCK_ENV] = args.clock
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    env = environment()
    mode = ("quick" if args.quick else "full") + (" + gpu" if args.gpu else "")
    mode += (" (gpu only)" if args.gpu_only else "") + f", {args.clock} clock"
    print(f"benchmarks ({mode}): " + "; ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    start = time.perf_counter()

    def save(rows_so_far: list[dict]) -> None:
        if args.markdown:
            report = _markdown_report(rows_so_far, env, mode, time.perf_counter() - start)
            Path(args.markdown).write_text(report)

    rows = run_modules(modules, quick=args.quick, gpu=args.gpu, on_progress=save)
    seconds = time.perf_counter() - start
    print(format_table(rows))
    print(f"({len(rows)} rows in {seconds:.1f} s)", flush=True)
    if args.markdown:
        save(rows)
        print(f"Markdown written to {args.markdown}")
    return 0
