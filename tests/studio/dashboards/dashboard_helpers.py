"""Helpers shared by the dashboard tests: recorded-run paths, showing a view, live feeding, a fake NVML module."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIT_RUN = FIXTURES / "dashboard_fit"
TUNE_RUN = FIXTURES / "dashboard_tune"


def show(qtbot, widget):
    """``widget`` at 1000x700 on screen (offscreen), closed with the test."""
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def feed(session, events, chunk=7):
    """Deliver ``events`` the way the run controller does (batches, then ``updated``)."""
    for start in range(0, len(events), chunk):
        session._on_events(events[start : start + chunk])


class FakeNvml:
    """One H100 whose power reading is not supported; the test process uses 1.6 GB on it."""

    class NVMLError_NotSupported(Exception):  # noqa: N801 - NVML's naming
        pass

    def nvmlInit(self):  # noqa: N802
        pass

    def nvmlDeviceGetCount(self):  # noqa: N802
        return 1

    def nvmlDeviceGetHandleByIndex(self, i):  # noqa: N802
        return i

    def nvmlDeviceGetName(self, h):  # noqa: N802
        return b"NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetMemoryInfo(self, h):  # noqa: N802
        return SimpleNamespace(used=2 * 2**30, total=80 * 2**30)

    def nvmlDeviceGetUtilizationRates(self, h):  # noqa: N802
        return SimpleNamespace(gpu=87, memory=40)

    def nvmlDeviceGetTemperature(self, h, kind):  # noqa: N802
        return 41

    def nvmlDeviceGetPowerUsage(self, h):  # noqa: N802
        raise self.NVMLError_NotSupported()

    def nvmlDeviceGetEnforcedPowerLimit(self, h):  # noqa: N802
        return 700_000

    def nvmlDeviceGetComputeRunningProcesses(self, h):  # noqa: N802
        return [SimpleNamespace(pid=os.getpid(), usedGpuMemory=1_600_000_000)]

    def nvmlShutdown(self):  # noqa: N802
        pass
