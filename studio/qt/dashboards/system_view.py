"""GPU and system: NVML per GPU (memory, utilisation, temperature, power; the training process's own GPU memory),
the torch allocator figures the child reports, and CPU % / RAM of the training process tree (psutil).

During a run the session's SystemMonitor samples once a second whatever tab is visible and saves the samples in
the run folder; this tab draws them (a reopened run shows its own). With no run samples (idle, or a run from
before the studio kept them) the tab samples the machine itself once a second while it is visible. Without NVIDIA
drivers the GPU part is one line saying why; the rest works.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import psutil
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.models.dashboards.system import SYSTEM_SAMPLE, GpuSampler, ProcessSampler, allocator_stats
from studio.models.dashboards.tables import Table
from studio.qt.dashboards.common import TableModel, button_row, fmt_bytes, make_table_view, plot_export_button
from studio.qt.plot_style import style_plot
from studio.services.session import RunSession

__all__ = ["SystemView"]

HISTORY = 600  # ten minutes of 1 Hz samples in the small plot


def _opt(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


class SystemView(QWidget):
    """The GPU and system tab."""

    def __init__(self, session: RunSession, parent: QWidget | None = None, *, gpu: GpuSampler | None = None,
                 interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self.session = session
        self.gpu = gpu or GpuSampler()
        self.procs = ProcessSampler()
        self.samples = 0
        self.gpu_label = QLabel()
        self.gpu_label.setObjectName("gpuStatus")
        self.gpu_label.setWordWrap(True)
        self.gpu_model = TableModel(self)
        self.gpu_table = make_table_view(self.gpu_model)
        self.gpu_table.setMaximumHeight(160)
        self.allocator_label = QLabel()
        self.allocator_label.setObjectName("allocator")
        self.process_label = QLabel()
        self.process_label.setObjectName("processStats")
        self.process_label.setWordWrap(True)
        self.plot_widget = style_plot(pg.PlotWidget())  # real values on the axes; follows the theme
        self.plot = self.plot_widget.getPlotItem()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "seconds ago")
        self.plot.setLabel("left", "%")
        self.plot.addLegend(offset=(10, 10))
        self.cpu_curve = self.plot.plot([], [], pen=pg.mkPen("#0072B2", width=1), name="training CPU % (per core)")
        self.gpu_curve = self.plot.plot([], [], pen=pg.mkPen("#009E73", width=1), name="GPU 0 utilisation %")
        self.ram_curve = self.plot.plot([], [], pen=pg.mkPen("#E69F00", width=1), name="system RAM used %")
        self.plot.setXRange(-120, 0, padding=0.02)
        self.plot.enableAutoRange(x=False, y=False)
        self.plot.setYRange(0, 100, padding=0)
        self.history: dict[str, deque[float]] = {k: deque(maxlen=HISTORY) for k in ("cpu", "gpu", "ram")}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("<b>GPUs</b>"))
        layout.addWidget(self.gpu_label)
        layout.addWidget(self.gpu_table)
        layout.addWidget(self.allocator_label)
        layout.addWidget(QLabel("<b>Training process</b>"))
        layout.addWidget(self.process_label)
        layout.addLayout(button_row(plot_export_button(self, self.plot, "system", self.series, x_name="seconds")))
        layout.addWidget(self.plot_widget, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.sample)
        session.tick.connect(self._sync_timer)
        psutil.cpu_percent(interval=None)  # prime the system-wide counter

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The drawn lines by their legend names, for the CSV export (x: the bottom axis' seconds)."""
        out = {}
        for curve in (self.cpu_curve, self.gpu_curve, self.ram_curve):
            x, y = curve.getData()
            if curve.isVisible() and x is not None and len(x):
                out[curve.name()] = (np.asarray(x), np.asarray(y))
        return out

    def _sync_timer(self) -> None:
        if self.isVisible() and not self.timer.isActive():
            self.timer.start()
            self.sample()
        elif not self.isVisible() and self.timer.isActive():
            self.timer.stop()

    def run_samples(self) -> list[dict]:
        """The samples taken during the shown run (live or reopened)."""
        return self.session.model.extras.get(SYSTEM_SAMPLE) or []

    def sample(self) -> None:
        """Show the run's samples, or (with none) take one sample of the machine and show it."""
        samples = self.run_samples()
        if samples:
            self._show_run(samples)
            return
        self.samples += 1
        pid = self.session.controller.pid
        self._sample_gpus(pid)
        stats = allocator_stats(self.session.model.latest)
        if stats:
            self.allocator_label.setText("Torch allocator (reported by the training process): "
                                         + ", ".join(f"{k} {fmt_bytes(v)}" for k, v in stats.items()))
        else:
            self.allocator_label.setText("Torch allocator: not reported by this run (CUDA runs with "
                                         "DeviceStatsMonitor or log_gpu_memory report it).")
        proc = self.procs.sample(pid)
        memory = psutil.virtual_memory()
        if proc is None:
            self.process_label.setText(f"No training process running. System: CPU {psutil.cpu_percent():.0f} %, "
                                       f"RAM {fmt_bytes(memory.used)} of {fmt_bytes(memory.total)}.")
        else:
            # The first look at a process has no CPU figure yet (no fake 0 % point).
            cpu = "measuring" if proc.cpu_percent is None else f"{proc.cpu_percent:.0f} %"
            self.process_label.setText(
                f"pid {proc.pid} and {proc.processes - 1} child process(es): CPU {cpu} "
                f"(of one core; {psutil.cpu_count()} cores), RAM {fmt_bytes(proc.rss_bytes)} resident. System RAM "
                f"{fmt_bytes(memory.used)} of {fmt_bytes(memory.total)}.")
            if proc.cpu_percent is not None:
                self.history["cpu"].append(proc.cpu_percent)
        self.history["ram"].append(float(memory.percent))
        self.plot.setLabel("bottom", "seconds ago")
        for key, curve in (("cpu", self.cpu_curve), ("gpu", self.gpu_curve), ("ram", self.ram_curve)):
            values = np.fromiter(self.history[key], dtype=np.float64)
            curve.setData(-np.arange(len(values))[::-1].astype(np.float64), values)
        self.plot.setXRange(-120, 0, padding=0.02)
        self._percent_range()

    def _show_run(self, samples: list[dict]) -> None:
        """Draw the run's samples against seconds since its first one; the tables show the newest."""
        last = samples[-1]
        start = float(samples[0].get("time") or 0.0)
        x = np.array([float(e.get("time") or start) - start for e in samples])

        def column(values: list) -> tuple[np.ndarray, np.ndarray]:
            keep = np.array([v is not None for v in values], dtype=bool)
            return x[keep], np.array([float(v) for v in values if v is not None])

        self.plot.setLabel("bottom", "seconds since the run started")
        self.cpu_curve.setData(*column([e.get("cpu_percent") for e in samples]))
        self.ram_curve.setData(*column([e.get("ram_percent") for e in samples]))
        gpu_util = [(e.get("gpus") or [{}])[0].get("utilization") for e in samples]
        self.gpu_curve.setData(*column(gpu_util))
        self._show_gpu_curve(any(u is not None for u in gpu_util))
        self.plot.enableAutoRange(x=True, y=False)
        self._percent_range()
        gpus = last.get("gpus") or []
        if gpus:
            table = Table(["GPU", "Name", "Memory used", "Memory total", "Util %", "Temp °C", "Power W",
                           "Training process"])
            for gpu in gpus:
                table.rows.append([gpu.get("index"), gpu.get("name"), fmt_bytes(gpu.get("memory_used")),
                                   fmt_bytes(gpu.get("memory_total")), _opt(gpu.get("utilization"), "{:.0f}"),
                                   _opt(gpu.get("temperature"), "{:.0f}"), _opt(gpu.get("power_w"), "{:.0f}"),
                                   fmt_bytes(gpu.get("own_memory")) if gpu.get("own_memory") else "not on this GPU"])
            self.gpu_model.set_table(table)
        self.gpu_table.setVisible(bool(gpus))
        self.gpu_label.setText(f"{len(gpus)} NVIDIA GPU(s), {len(samples)} samples of this run." if gpus else
                               "No GPU samples in this run (no NVIDIA driver, or a CPU-only machine).")
        cpu = last.get("cpu_percent")
        self.process_label.setText(
            f"{len(samples)} samples over {x[-1]:.0f} s. Last: training processes CPU "
            f"{'n/a' if cpu is None else f'{cpu:.0f} %'} (of one core), RAM "
            f"{fmt_bytes(last.get('rss_bytes')) if last.get('rss_bytes') is not None else 'n/a'} resident; "
            f"system RAM {last.get('ram_percent', 0):.0f} % used.")

    def _show_gpu_curve(self, shown: bool) -> None:
        """Show the GPU curve and its legend entry only with GPU figures (the legend named an absent line)."""
        if shown == self.gpu_curve.isVisible():
            return
        self.gpu_curve.setVisible(shown)
        if shown:
            self.plot.legend.addItem(self.gpu_curve, "GPU 0 utilisation %")
        else:
            self.plot.legend.removeItem(self.gpu_curve)

    def _percent_range(self) -> None:
        """Percentages from 0 to 100 (higher when a process uses more than one core).

        Autoscaled, RAM at 13.1-13.3 % filled the plot and a flat line read as big swings.
        """
        top = 100.0
        for curve in (self.cpu_curve, self.gpu_curve, self.ram_curve):
            _x, y = curve.getData()
            if y is not None and len(y) and np.isfinite(y).any():
                top = max(top, float(np.nanmax(y)) * 1.05)
        self.plot.setYRange(0, top, padding=0)

    def _sample_gpus(self, pid: int | None) -> None:
        if not self.gpu.start():
            self.gpu_label.setText(self.gpu.reason)
            self.gpu_table.setVisible(False)
            self._show_gpu_curve(False)
            return
        samples = self.gpu.sample()
        own = set()
        if pid is not None:
            try:
                own = {pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))}
            except psutil.Error:
                own = {pid}
        table = Table(["GPU", "Name", "Memory used", "Memory total", "Util %", "Temp °C", "Power W",
                       "Training process"])
        for gpu in samples:
            mine = sum(v for p, v in gpu.process_memory.items() if p in own)
            table.rows.append([gpu.index, gpu.name, fmt_bytes(gpu.memory_used), fmt_bytes(gpu.memory_total),
                               _opt(gpu.utilization, "{:.0f}"), _opt(gpu.temperature, "{:.0f}"),
                               _opt(gpu.power_w, "{:.0f}") + (f" / {gpu.power_limit_w:.0f}" if gpu.power_limit_w
                                                             else ""),
                               fmt_bytes(mine) if own and mine else ("not on this GPU" if own else "no run")])
        self.gpu_model.set_table(table)
        self.gpu_table.setVisible(True)
        self.gpu_label.setText(f"{len(samples)} NVIDIA GPU(s), sampled once a second.")
        util = samples[0].utilization if samples else None
        self.history["gpu"].append(float(util) if util is not None else 0.0)

    def hideEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.timer.stop()
        super().hideEvent(event)  # type: ignore[arg-type]
