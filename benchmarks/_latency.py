"""Event-loop lateness probe shared by the studio and dashboard benchmarks (Qt imported on use)."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["probe_lateness"]


def probe_lateness(seconds: float, feed=None) -> np.ndarray:
    """Lateness (s) of a 10 ms timer over ``seconds``, with ``feed`` called every 50 ms when given."""
    from PySide6.QtCore import QEventLoop, QTimer

    lateness: list[float] = []
    last = [time.perf_counter()]

    def probe():
        now = time.perf_counter()
        lateness.append(max(0.0, now - last[0] - 0.010))
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(probe)
    feeder = QTimer()
    if feed is not None:
        feeder.setInterval(50)
        feeder.timeout.connect(feed)
        feeder.start()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    timer.start()
    loop.exec()
    timer.stop()
    feeder.stop()
    return np.array(lateness[5:])
