"""PyTorchProfiler: ``torch.profiler`` over a few steps, a Chrome trace file and the operator table.

The torch profiler runs with the schedule wait=1, warmup=1, active=3 (one window per stage, so a long run pays
the profiling cost only for five steps). Each action becomes a ``record_function`` scope, so the trace shows
``training_step``, ``backward`` and the hooks around the operators they launched. The step counter advances when a
step action (``training_step``, ``validation_step``, ``test_step``, ``predict_step``, also as the hook dispatcher's
``[LightningModule]Model.training_step``) ends; a step action nested in another of the same kind counts once.

The trace is written to ``{dirpath}/{stage}-{filename or "pytorch"}.pt.trace.json`` (open it in ``chrome://tracing``
or Perfetto); :meth:`PyTorchProfiler.summary` is ``key_averages().table(sort_by, row_limit)``.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

import torch

from trainer_core.exceptions import MisconfigurationError
from trainer_core.profilers.base import Profiler

__all__ = ["PyTorchProfiler"]


def _base_name(action_name: str) -> str:
    """``"[LightningModule]Model.training_step"`` (the hook dispatcher's name) -> ``"training_step"``."""
    return action_name.rsplit(".", 1)[-1] if action_name.startswith("[") else action_name


class PyTorchProfiler(Profiler):
    """Profile operators (CPU, and CUDA when available) with ``torch.profiler``.

    Args:
        dirpath: Folder for the report and the trace (default: the run folder the trainer passes to :meth:`setup`).
        filename: Write the report to ``{dirpath}/{stage}-{filename}.txt`` instead of printing; also names the trace.
        group_by_input_shapes: Record shapes and group the table by operator input shapes.
        emit_nvtx: Also emit NVTX ranges (for Nsight Systems; needs CUDA).
        export_to_chrome: Write the Chrome trace file when the profiled window ends.
        row_limit: Rows in the text table (-1: all).
        sort_by_key: Table order; default ``"cuda_time_total"`` on CUDA machines, else ``"cpu_time_total"``.
        record_functions: Extra action names that advance the profiler's step counter.
        record_module_names: Name each module's forward "{class path}: {module name}" in the trace, for modules
            passed to :meth:`register_module`.
        **profiler_kwargs: Passed to ``torch.profiler.profile`` (for example ``schedule``, ``profile_memory``).

    Raises:
        MisconfigurationError: For a ``sort_by_key`` outside :attr:`AVAILABLE_SORT_KEYS`.
    """

    AVAILABLE_SORT_KEYS = (
        "cpu_time", "cuda_time", "cpu_time_total", "cuda_time_total", "cpu_memory_usage", "cuda_memory_usage",
        "self_cpu_memory_usage", "self_cuda_memory_usage", "count",
    )
    STEP_ACTIONS = ("training_step", "validation_step", "test_step", "predict_step")

    def __init__(self, dirpath: str | os.PathLike[str] | None = None, filename: str | None = None,
                 group_by_input_shapes: bool = False, emit_nvtx: bool = False, export_to_chrome: bool = True,
                 row_limit: int = 20, sort_by_key: str | None = None, record_functions: set[str] | None = None,
                 record_module_names: bool = True, **profiler_kwargs: Any) -> None:
        super().__init__(dirpath=dirpath, filename=filename)
        if sort_by_key is not None and sort_by_key not in self.AVAILABLE_SORT_KEYS:
            raise MisconfigurationError(
                f"PyTorchProfiler(sort_by_key={sort_by_key!r}) is not supported; use one of "
                f"{', '.join(self.AVAILABLE_SORT_KEYS)}."
            )
        self.group_by_input_shapes = group_by_input_shapes
        self.emit_nvtx = emit_nvtx
        self.export_to_chrome = export_to_chrome
        self.row_limit = row_limit
        self.sort_by_key = sort_by_key or ("cuda_time_total" if torch.cuda.is_available() else "cpu_time_total")
        self.step_actions = set(self.STEP_ACTIONS) | set(record_functions or ())
        self.record_module_names = record_module_names
        self._profiler_kwargs = profiler_kwargs
        self._profiler: torch.profiler.profile | None = None
        self._nvtx: Any = None
        self._records: dict[str, list[Any]] = {}  # action -> open record_function scopes (innermost last)
        self._module_hooks: list[Any] = []
        self._averages: Any = None  # key_averages() of the finished window
        self._finished = False  # the stage's report was taken: record nothing more until the next setup()
        self.trace_paths: list[str] = []

    # --- torch profiler life cycle --------------------------------------------------------------------------
    def _output_dir(self) -> str:
        return self.dirpath or self._log_dir or os.getcwd()

    def _on_trace_ready(self, prof: torch.profiler.profile) -> None:
        if not self.export_to_chrome:
            return
        stem = f"{self._stage}-{self.filename or 'pytorch'}" if self._stage else (self.filename or "pytorch")
        if self._local_rank:
            stem += f"-{self._local_rank}"
        if self.trace_paths:  # a custom repeating schedule: one file per window
            stem += f"-{len(self.trace_paths)}"
        path = os.path.join(self._output_dir(), f"{stem}.pt.trace.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        prof.export_chrome_trace(path)
        self.trace_paths.append(path)

    def _ensure_started(self) -> None:
        if self._profiler is not None or self._finished:
            return
        activities = [torch.profiler.ProfilerActivity.CPU]
        if torch.cuda.is_available():
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        kwargs = dict(self._profiler_kwargs)
        kwargs.setdefault("activities", activities)
        kwargs.setdefault("schedule", torch.profiler.schedule(wait=1, warmup=1, active=3, repeat=1))
        kwargs.setdefault("record_shapes", self.group_by_input_shapes)
        kwargs.setdefault("on_trace_ready", self._on_trace_ready)
        self._profiler = torch.profiler.profile(**kwargs)
        self._profiler.__enter__()
        if self.emit_nvtx:
            self._nvtx = torch.autograd.profiler.emit_nvtx(record_shapes=self.group_by_input_shapes)
            self._nvtx.__enter__()

    def _finish(self) -> None:
        """Stop the torch profiler (exporting a partial window) and keep its averages for the report."""
        for scopes in self._records.values():
            for scope in reversed(scopes):
                scope.__exit__(None, None, None)
        self._records.clear()
        if self._nvtx is not None:
            self._nvtx.__exit__(None, None, None)
            self._nvtx = None
        if self._profiler is None:
            return
        self._finished = True
        profiler, self._profiler = self._profiler, None
        profiler.__exit__(None, None, None)
        try:
            self._averages = profiler.key_averages(group_by_input_shape=self.group_by_input_shapes)
        except (AssertionError, RuntimeError):  # the schedule never reached its active window
            self._averages = None

    # --- Profiler API ---------------------------------------------------------------------------------------
    def setup(self, stage: str | None = None, local_rank: int | None = None, log_dir: str | None = None) -> None:
        """Start a fresh window for ``stage`` (the torch profiler starts with the first action)."""
        self._finish()
        super().setup(stage, local_rank, log_dir)
        self._averages = None
        self._finished = False

    def start(self, action_name: str) -> None:
        if self._finished:  # hooks that run after the report (teardown, ...) are not profiled
            return
        self._ensure_started()
        scope = torch.autograd.profiler.record_function(action_name)
        scope.__enter__()
        self._records.setdefault(action_name, []).append(scope)

    def stop(self, action_name: str) -> None:
        scopes = self._records.get(action_name)
        if not scopes:
            if self._finished:  # started before the report was taken; its scope was closed then
                return
            raise ValueError(
                f"PyTorchProfiler: action {action_name!r} was stopped but never started; call "
                f"start({action_name!r}) first (or use `with profiler.profile(...)`)."
            )
        scopes.pop().__exit__(None, None, None)
        base = _base_name(action_name)
        if base in self.step_actions and self._profiler is not None and not self._open_with_base(base):
            self._profiler.step()

    def _open_with_base(self, base: str) -> bool:
        """Whether an enclosing action of the same step kind is still open (then that one advances the step)."""
        return any(scopes and _base_name(name) == base for name, scopes in self._records.items())

    def register_module(self, module: torch.nn.Module) -> None:
        """Wrap each submodule's forward in a scope named "{class path}: {module name}"."""
        if not self.record_module_names:
            return
        for handle in self._module_hooks:  # registering again (a second fit) must not double the scopes
            handle.remove()
        self._module_hooks.clear()
        for name, sub in module.named_modules():
            if not name:
                continue
            label = f"{type(sub).__module__}.{type(sub).__qualname__}: {name}"
            self._module_hooks.append(sub.register_forward_pre_hook(partial(self._enter_module, label)))
            self._module_hooks.append(sub.register_forward_hook(partial(self._exit_module, label)))

    def _enter_module(self, label: str, *_: Any) -> None:
        if self._profiler is not None:
            self.start(label)

    def _exit_module(self, label: str, *_: Any) -> None:
        if self._records.get(label):
            scopes = self._records[label]
            scopes.pop().__exit__(None, None, None)

    def teardown(self, stage: str | None = None) -> None:
        """Stop the torch profiler and remove module hooks."""
        self._finish()
        for handle in self._module_hooks:
            handle.remove()
        self._module_hooks.clear()

    def summary(self) -> str:
        self._finish()
        title = self._title()
        if not self._averages:
            return (f"{title}\n\nNo steps were profiled: the schedule (wait=1, warmup=1, active=3) needs at least "
                    "two step actions before it records.")
        table = self._averages.table(sort_by=self.sort_by_key, row_limit=self.row_limit)
        return f"{title}\n\n{table}"

    def report_rows(self) -> list[dict[str, Any]]:
        """One row per operator/scope of the profiled window (CPU time, inclusive), sorted by total time.

        ``percent`` is the share of the window's CPU time (sum of self times); on CUDA machines each row also has
        ``device_total_s``.
        """
        self._finish()
        if not self._averages:
            return []
        window = sum(evt.self_cpu_time_total for evt in self._averages) or 1.0
        rows = []
        for evt in self._averages:
            total = evt.cpu_time_total / 1e6  # microseconds -> seconds
            row = {
                "action": evt.key,
                "mean_s": total / evt.count if evt.count else 0.0,
                "num_calls": int(evt.count),
                "total_s": total,
                "percent": 100.0 * evt.cpu_time_total / window,
            }
            if torch.cuda.is_available():
                row["device_total_s"] = getattr(evt, "device_time_total", 0.0) / 1e6
            rows.append(row)
        rows.sort(key=lambda row: row["total_s"], reverse=True)
        return rows
