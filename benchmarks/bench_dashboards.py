"""Dashboard benchmarks: GUI event-loop latency while a run's history of 1,000,000 points streams on.

Rows (``ours`` vs ``baseline`` measured in the same run):

- Gradients tab: 10 per-layer grad-norm series plus the total (1,000,000 points in all) drawn as the total-norm
  curve and the layer x step heatmap, while 10,000 new points/s arrive in the child's wire format; p99 lateness of
  a 10 ms probe timer vs the same tab idle.
- Learning-rate + Runs overlay: the LR tab (two 500,000-point LR series) under the same stream.
- Metrics grid: 100 charts of 1,000,000 points each (``--quick``: 100,000), the section expanded, new points on every
  chart; a second row also scrolls the grid by one row (240 px) every second: charts coming into view are drawn
  for the first time (only the charts on screen when the section opened were drawn before), from their full
  million-point histories.

Target (issue: dashboards): p99 below 50 ms.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from benchmarks._latency import probe_lateness

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LAYERS = [f"layer{i}.weight" for i in range(10)]


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])




def _fill(session, names: list[str], total_points: int) -> int:
    """Put ``total_points`` points spread over ``names`` into the run's store; returns the next step."""
    store = session.model.metrics
    per = total_points // len(names)
    x = np.arange(per, dtype=np.float64)
    rng = np.random.default_rng(0)
    for name in names:
        store.add(name, -1, 1.0)
        store.series(name).extend(x, np.abs(rng.normal(1.0, 0.3, per)) + 1e-3)
    store.version += 1
    return per


def _feeder(session, names: list[str], start: int):
    step = [start]
    per_tick = 500 // len(names) + 1  # about 500 points per 50 ms over all series = 10,000 points/s

    def feed():
        steps = list(range(step[0], step[0] + per_tick))
        step[0] += per_tick
        session._on_events([{"type": "_metrics_block", "run_id": "bench", "seq": [0, 0], "time": 0.0,
                             "names": names, "steps": steps, "epochs": [0] * per_tick,
                             "values": [[1.0 + 1e-6 * s for s in steps] for _ in names]}])

    return feed


def _row(name: str, view, session, names: list[str], points: int, seconds: float) -> dict:
    view.resize(1200, 750)
    view.show()
    start = _fill(session, names, points)
    view.refresh(force=True)
    idle = probe_lateness(min(seconds, 2.0))
    busy = probe_lateness(seconds, _feeder(session, names, start))
    total = sum(len(session.model.metrics.series(n)) for n in names)
    view.close()
    p99, p99_idle = float(np.percentile(busy, 99)) * 1000, float(np.percentile(idle, 99)) * 1000
    return {"name": name, "ours": p99, "baseline": p99_idle, "unit": "ms",
            "ratio": p99 / p99_idle if p99_idle else float("inf"),
            "note": f"{total:,} points at the end over {len(names)} series; {len(busy)} probes; baseline: same tab "
                    f"idle; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; target < 50 ms"}


def _grid_row(points_per_chart: int, seconds: float, scroll: bool) -> dict:
    from studio.qt.metrics_view import MetricsView
    from studio.services.session import RunSession

    session = RunSession()
    view = MetricsView(session)
    names = [f"train_metric{i:03d}" for i in range(100)]
    view.resize(1200, 750)
    view.show()
    start = _fill(session, names, points_per_chart * len(names))
    view.refresh(force=True)
    view.sections["train / val"].set_expanded(True)  # past the collapse threshold: the user opened it
    _app().processEvents()  # laid out first, as on a user's click: only the charts on screen are drawn
    view.refresh(force=True)
    feed = _feeder(session, names, start)
    bar = view.scroll.verticalScrollBar()

    ticks = [0]

    def feed_and_scroll():
        feed()
        ticks[0] += 1
        if scroll and ticks[0] % 20 == 0:  # a user skimming the grid: one row further every second
            bar.setValue(bar.value() + 240 if bar.value() < bar.maximum() else 0)

    idle = probe_lateness(min(seconds, 2.0))
    # Warm-up: the first new points grow all 100 buffers past the filled history at once (a one-time copy of
    # 1.6 GB here, seconds on a busy machine); the row measures the steady state after it.
    probe_lateness(1.5, feed)
    busy = probe_lateness(seconds, feed_and_scroll)
    drawn = sum(chart.redraws for chart in view.charts())
    first_drawn = sum(chart.redraws > 0 for chart in view.charts())
    view.close()
    session.shutdown()
    p99, p99_idle = float(np.percentile(busy, 99)) * 1000, float(np.percentile(idle, 99)) * 1000
    doing = "streaming, scrolled one row a second" if scroll else "streaming"
    return {"name": f"dashboards: Metrics grid p99 event-loop lateness, 100 charts x {points_per_chart:,} points, "
                    f"{doing}",
            "ours": p99, "baseline": p99_idle, "unit": "ms", "ratio": p99 / p99_idle if p99_idle else float("inf"),
            "note": f"{drawn} chart redraws, {first_drawn} charts drawn at all; worst {busy.max() * 1000:.0f} ms; "
                    f"{len(busy)} probes; baseline: same grid idle; load average "
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; target < 50 ms"}


def run(quick: bool, gpu: bool) -> list[dict]:
    """Rows for ``python -m benchmarks`` (CPU only; ``gpu`` is ignored)."""
    del gpu
    from studio.qt.dashboards.gradients_view import GradientsView
    from studio.qt.dashboards.lr_view import LearningRateView
    from studio.services.session import RunSession

    _app()
    seconds = 2.0 if quick else 6.0
    rows = []
    session = RunSession()
    names = [f"grad_2.0_norm/{p}_step" for p in LAYERS] + ["grad_2.0_norm_total_step"]
    rows.append(_row("dashboards: Gradients tab p99 event-loop lateness, 10k points/s into 1M points",
                     GradientsView(session), session, names, 1_000_000, seconds))
    session.shutdown()
    session = RunSession()
    rows.append(_row("dashboards: Learning-rate tab p99 event-loop lateness, 10k points/s into 1M points",
                     LearningRateView(session), session, ["lr-Adam", "lr-Adam/pg1"], 1_000_000, seconds))
    session.shutdown()
    for scroll in (False, True):
        rows.append(_grid_row(100_000 if quick else 1_000_000, seconds, scroll))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv, gpu=False):
        print(row)
