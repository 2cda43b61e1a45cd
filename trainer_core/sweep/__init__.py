"""Hyper-parameter sweeps on Optuna: ``trainer-core sweep --config RUN.yaml --sweep SWEEP.yaml``.

See :mod:`trainer_core.sweep.spec` for the sweep file and :mod:`trainer_core.sweep.sweeper` for the sweep folder.
"""

from trainer_core.sweep.spec import Parameter, SweepError, SweepSpec, apply_params, load_sweep, parse_sweep
from trainer_core.sweep.sweeper import SweepResult, run_sweep

__all__ = ["Parameter", "SweepError", "SweepSpec", "SweepResult", "apply_params", "load_sweep", "parse_sweep",
           "run_sweep"]
