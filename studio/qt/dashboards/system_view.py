"""GPU and system: NVML per GPU (memory, utilisation, temperature, power; the training process's own GPU memory),
the torch allocator figures the child reports, and CPU % / RAM of the training process tree (psutil).

During a run the session's SystemMonitor samples once a second whatever tab is visible and saves the samples in
the run folder; this tab draws them (a reopened run shows its own). A run without those samples (a command-line
run, one from before the studio kept them, one followed from another machine) shows what it logged itself
(DeviceStatsMonitor / GPUStatsMonitor metrics) or says it recorded none: this machine's figures now are not the
run's, and drawn there they were read as the run's. Only with no run shown does the tab sample this machine, once
a second while visible. Without NVIDIA drivers the GPU part is one line saying why; the rest works.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import psutil
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.models.dashboards.system import SYSTEM_SAMPLE, GpuSampler, ProcessSampler, allocator_stats, logged_stats
from studio.models.dashboards.tables import Table
from studio.models.run_state import RunStatus
from studio.qt.dashboards.common import TableModel, button_row, fmt_bytes, make_table_view, plot_export_button
from studio.qt.plot_style import style_plot
from studio.services.session import RunSession

__all__ = ["SystemView"]

HISTORY = 600  # ten minutes of 1 Hz samples in the small plot
SAMPLED_NAMES = {"cpu": "training CPU % (per core)", "gpu": "GPU 0 utilisation %", "ram": "system RAM used %"}
LOGGED_NAMES = {"cpu": "system CPU % (DeviceStatsMonitor)", "gpu": "GPU 0 utilisation % (GPUStatsMonitor)",
                "ram": "system RAM used % (DeviceStatsMonitor)"}
HOW_TO_RECORD = ("To record them: a run started from the studio is sampled once a second while it trains on this "
                 "machine (kept in its folder's system.jsonl), or add the DeviceStatsMonitor callback (Trainer tab, "
                 "More callbacks; GPUStatsMonitor for NVML figures) so the run logs them itself.")


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
        self.cpu_curve = self.plot.plot([], [], pen=pg.mkPen("#0072B2", width=1), name=SAMPLED_NAMES["cpu"])
        self.gpu_curve = self.plot.plot([], [], pen=pg.mkPen("#009E73", width=1), name=SAMPLED_NAMES["gpu"])
        self.ram_curve = self.plot.plot([], [], pen=pg.mkPen("#E69F00", width=1), name=SAMPLED_NAMES["ram"])
        self.curves = {"cpu": self.cpu_curve, "gpu": self.gpu_curve, "ram": self.ram_curve}
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
        self.export_button = plot_export_button(self, self.plot, "system", self.series, x_name="seconds")
        layout.addLayout(button_row(self.export_button))
        layout.addWidget(self.plot_widget, 1)
        # Takes the plot's room while there is nothing to plot (the labels spread over the whole height otherwise).
        self.filler = QWidget()
        self.filler.setVisible(False)
        layout.addWidget(self.filler, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.sample)
        session.tick.connect(self._sync_timer)
        session.cleared.connect(self._forget_machine_samples)
        psutil.cpu_percent(interval=None)  # prime the system-wide counter

    def series(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The drawn lines by their legend names, for the CSV export (x: the bottom axis' seconds)."""
        out = {}
        for curve in self.curves.values():
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

    def samples_this_machine(self) -> bool:
        """True when this machine's figures belong on the tab: no run is shown, or the shown run trains here now."""
        session = self.session
        if session.controller.running or session.model.status == RunStatus.IDLE:
            return True
        return session.follower is not None and session.remote_location is None and not session.model.ended

    def _forget_machine_samples(self) -> None:
        for values in self.history.values():
            values.clear()

    def sample(self) -> None:
        """Show the run's samples; else what the run logged itself; only with no run shown, sample this machine."""
        samples = self.run_samples()
        if samples:
            self._show_run(samples)
            return
        if not self.samples_this_machine():
            self._show_logged()
            return
        self.samples += 1
        self._show_plot(True)
        pid = self.session.controller.pid
        self._sample_gpus(pid)
        self._allocator_text()
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

        self._show_plot(True)
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

    def _show_logged(self) -> None:
        """A run the studio did not sample: the figures its stats callbacks logged, or a plain note that it has none.

        This machine is not sampled for it: drawn there, today's figures of this computer read as the run's.
        """
        model = self.session.model
        logged = logged_stats(model.metrics.names())
        self.gpu_table.setVisible(False)
        self._allocator_text()
        elsewhere = self.session.remote_location
        if elsewhere:
            self.gpu_label.setText(f"This run trains on another machine ({elsewhere}): the studio samples only runs "
                                   "that train on this one." + (" Its own logged figures are below." if logged
                                                                else " It logged no GPU or system figures."))
        elif not logged:
            self.gpu_label.setText("This run recorded no GPU or system samples, so none are shown (this machine's "
                                   "figures now would not be the run's).")
        else:
            self.gpu_label.setText("GPU utilisation logged by the run's GPUStatsMonitor." if "gpu" in logged else
                                   "No GPU figures in this run (it logged system CPU and RAM only).")
        self._show_plot(bool(logged))
        names: dict[str, str] = {}
        for role, curve in self.curves.items():
            series = model.metrics.get(logged[role]) if role in logged else None
            if series is None:
                curve.setData([], [])
                continue
            x, y = series.view()
            curve.setData(np.array(x, dtype=np.float64), np.array(y, dtype=np.float64))
            names[role] = LOGGED_NAMES[role]
        self._legend(names)
        if not logged:
            self.process_label.setText("No CPU or RAM figures of the training process either. " + HOW_TO_RECORD)
            return
        self.plot.setLabel("bottom", "step")
        self.plot.enableAutoRange(x=True, y=False)
        self._percent_range()
        self.process_label.setText(
            "Figures logged by the run itself at its logging steps (" + ", ".join(logged.values()) + "); the "
            "studio took no samples of this run. CPU and RAM here are the whole machine's, not the training "
            "process's.")

    def _show_plot(self, shown: bool) -> None:
        self.plot_widget.setVisible(shown)
        self.export_button.setVisible(shown)
        self.filler.setVisible(not shown)

    def _allocator_text(self) -> None:
        stats = allocator_stats(self.session.model.latest)
        if stats:
            self.allocator_label.setText("Torch allocator (reported by the training process): "
                                         + ", ".join(f"{k} {fmt_bytes(v)}" for k, v in stats.items()))
        else:
            self.allocator_label.setText("Torch allocator: not reported by this run (CUDA runs with "
                                         "DeviceStatsMonitor or log_gpu_memory report it).")

    def _legend(self, names: dict[str, str]) -> None:
        """Show exactly the lines in ``names`` (role -> legend name); the legend once named lines that were absent."""
        legend = self.plot.legend
        wanted = [(curve, names[role]) for role, curve in self.curves.items() if role in names]
        if [(sample.item, label.text) for sample, label in legend.items] == wanted:
            return
        legend.clear()
        for curve in self.curves.values():
            curve.setVisible(False)
        for curve, name in wanted:
            curve.opts["name"] = name  # the CSV export's column names follow the legend
            curve.setVisible(True)
            legend.addItem(curve, name)

    def _show_gpu_curve(self, shown: bool) -> None:
        """The sampled lines; GPU utilisation only with GPU figures (the legend named an absent line)."""
        self._legend({role: name for role, name in SAMPLED_NAMES.items() if shown or role != "gpu"})

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
        self.gpu_label.setText(f"{len(samples)} NVIDIA GPU(s) of this machine, sampled once a second.")
        util = samples[0].utilization if samples else None
        self.history["gpu"].append(float(util) if util is not None else 0.0)

    def hideEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.timer.stop()
        super().hideEvent(event)  # type: ignore[arg-type]
