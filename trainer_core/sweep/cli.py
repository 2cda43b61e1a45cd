"""``trainer-core sweep``: search hyper-parameters headless, the same sweep the studio's Sweep button runs.

Examples:
    trainer-core sweep --config run.yaml --sweep sweep.yaml --n_trials 20 --parallel 2
    trainer-core sweep --config run.yaml --sweep sweep.yaml --n_trials 40   # again: tops the study up to 40
    trainer-core sweep --config run.yaml --sweep sweep.yaml --storage sqlite:////shared/study.db  # several machines
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer_core.exceptions import MisconfigurationError

__all__ = ["main", "build_parser"]

_PROG = "trainer-core sweep"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise MisconfigurationError(f"{message}. See `{_PROG} --help`.")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=_PROG, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="Search hyper-parameters with Optuna: each trial is an ordinary fit run.",
                     epilog=__doc__.split("Examples:")[1])
    parser.add_argument("--config", action="append", required=True, metavar="RUN.yaml",
                        help="the run config the trials start from (repeatable, later files override)")
    parser.add_argument("--sweep", required=True, metavar="SWEEP.yaml",
                        help="the sweep file: metric, direction, sampler, pruner, parameters")
    parser.add_argument("--n_trials", type=int, default=10, metavar="N",
                        help="the study's total number of trials (default 10); a rerun tops the study up to N")
    parser.add_argument("--parallel", type=int, default=1, metavar="K", help="trials running at once (default 1)")
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage URL (default: sqlite:///SWEEP_DIR/study.db; journal:PATH for a journal "
                             "file)")
    parser.add_argument("--sweep_dir", metavar="DIR",
                        help="the sweep folder (default: sweeps/STUDY_NAME in the current folder)")
    parser.add_argument("--traceback", action="store_true", help="on bad input, also print the traceback")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the sweep command; 0 done, 2 bad input, 130 stopped."""
    args = list(sys.argv[1:] if argv is None else argv)
    show_traceback = "--traceback" in args
    try:
        from trainer_core.loading.config import check_config, load_config, merge_configs
        from trainer_core.sweep.spec import load_sweep
        from trainer_core.sweep.sweeper import run_sweep

        ns = build_parser().parse_args(args)
        config: dict[str, Any] = {}
        for path in ns.config:
            config = merge_configs(config, load_config(path))
        config = check_config(config, "run config")
        if not config.get("model"):
            raise MisconfigurationError("the run config names no model: add model: {script: model.py}.")
        spec = load_sweep(ns.sweep)
        sweep_dir = Path(ns.sweep_dir) if ns.sweep_dir else Path("sweeps") / spec.study_name
        result = run_sweep(config, spec, n_trials=ns.n_trials, parallel=ns.parallel, storage=ns.storage,
                           sweep_dir=sweep_dir, echo=lambda line: print(line, flush=True))
    except MisconfigurationError as err:
        if show_traceback:
            traceback.print_exc()
        print(f"{_PROG}: error: {' '.join(str(err).split())}", file=sys.stderr, flush=True)
        return 2
    if result.best_number is not None:
        print(f"Best trial: #{result.best_number} value={result.best_value:.6g} params={result.best_params}")
        print(f"Best config: {result.best_config_path}")
    else:
        print("No trial has completed yet.")
    print(f"Sweep folder: {result.sweep_dir}", flush=True)
    if result.interrupted:
        print(f"{_PROG}: stopped; run the same command again to resume.", file=sys.stderr, flush=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
