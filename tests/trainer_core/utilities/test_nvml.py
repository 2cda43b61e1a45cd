"""log_gpu_memory readings through NVML: names, units, one-time warning without a driver, caching."""

from __future__ import annotations

import subprocess
import sys
import types
import warnings
from collections.abc import Iterator

import pytest

from trainer_core.utilities import nvml


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    nvml.reset_nvml_cache()
    yield
    nvml.reset_nvml_cache()


class _FakeNVMLError(Exception):
    pass


def _fake_pynvml(used_mib: list[float] | None, calls: dict[str, int]) -> types.ModuleType:
    module = types.ModuleType("pynvml")

    def init() -> None:
        calls["init"] = calls.get("init", 0) + 1
        if used_mib is None:
            raise _FakeNVMLError("NVML Shared Library Not Found")

    module.nvmlInit = init  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: len(used_mib or [])  # type: ignore[attr-defined]
    module.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]

    def memory(handle: int) -> types.SimpleNamespace:
        calls["memory"] = calls.get("memory", 0) + 1
        return types.SimpleNamespace(used=int((used_mib or [])[handle] * 1024 * 1024), total=0, free=0)

    module.nvmlDeviceGetMemoryInfo = memory  # type: ignore[attr-defined]
    return module


def test_all_and_min_max_names_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, int] = {}
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml([1500.0, 300.0, 42.5], calls))
    assert nvml.gpu_memory_metrics("all") == {
        "gpu_id: 0/memory.used (MB)": 1500.0,
        "gpu_id: 1/memory.used (MB)": 300.0,
        "gpu_id: 2/memory.used (MB)": 42.5,
    }
    assert nvml.gpu_memory_metrics("min_max") == {"min_gpu_mem": 42.5, "max_gpu_mem": 1500.0}
    assert calls["init"] == 1, "NVML must be initialised once and cached"
    assert calls["memory"] == 6


def test_without_driver_warns_once_and_returns_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, int] = {}
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml(None, calls))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert nvml.gpu_memory_metrics("min_max") == {}
        assert nvml.gpu_memory_metrics("all") == {}
        assert nvml.gpu_memory_used_mb() == []
        assert not nvml.nvml_available()
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert "\n" not in messages[0]
    assert "log_gpu_memory" in messages[0] and "NVIDIA driver" in messages[0]
    assert calls["init"] == 1


def test_bad_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match='"all" or "min_max"'):
        nvml.gpu_memory_metrics("max")


def test_never_spawns_nvidia_smi(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"subprocess started: {args}")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml([10.0], {}))
    assert nvml.gpu_memory_metrics("all") == {"gpu_id: 0/memory.used (MB)": 10.0}


def test_real_pynvml_on_this_machine() -> None:
    """With the installed nvidia-ml-py: a dict with the right names, or {} plus one warning without a driver."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = nvml.gpu_memory_metrics("min_max")
    if metrics:
        assert set(metrics) == {"min_gpu_mem", "max_gpu_mem"}
        assert metrics["min_gpu_mem"] <= metrics["max_gpu_mem"]
    else:
        assert len(caught) == 1
