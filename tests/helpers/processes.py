"""Child-process bookkeeping shared by the studio and reliability test fixtures."""

from __future__ import annotations

from collections.abc import Iterable

import psutil


def live_children() -> set[int]:
    """Child processes of the test process, except multiprocessing's session-long resource tracker and zombies."""
    out = set()
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE or any("resource_tracker" in p for p in proc.cmdline()):
                continue
        except psutil.Error:
            continue
        out.add(proc.pid)
    return out


def kill_all(pids: Iterable[int]) -> None:
    """Kill leaked processes so that one failing test does not disturb the next."""
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass
