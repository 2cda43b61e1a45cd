"""log_gpu_memory through the Trainer: NVML readings at logging steps, one warning line without a driver."""

from __future__ import annotations

import sys
import types
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from _techniques_models import BoringModel, RecordingLogger, trainer

from trainer_core.exceptions import MisconfigurationError
from trainer_core.utilities import nvml


@pytest.fixture(autouse=True)
def fresh_nvml() -> Iterator[None]:
    nvml.reset_nvml_cache()
    yield
    nvml.reset_nvml_cache()


class Logs(BoringModel):
    def training_step(self, batch: Any, batch_idx: int) -> Any:
        loss = self.loss(self(batch))
        self.log("train_loss", loss)
        return loss


def _fake_pynvml(used_mib: list[float]) -> types.ModuleType:
    fake = types.ModuleType("pynvml")
    fake.nvmlInit = lambda: None  # type: ignore[attr-defined]
    fake.nvmlDeviceGetCount = lambda: len(used_mib)  # type: ignore[attr-defined]
    fake.nvmlDeviceGetHandleByIndex = lambda i: i  # type: ignore[attr-defined]
    fake.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=used_mib[h] * 1024 * 1024)  # type: ignore
    return fake


def test_without_a_driver_one_warning_and_no_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = types.ModuleType("pynvml")

    def fail() -> None:
        raise RuntimeError("NVML Shared Library Not Found")

    broken.nvmlInit = fail  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynvml", broken)
    logger = RecordingLogger()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer(logger=logger, log_gpu_memory="min_max", log_every_n_steps=1, max_epochs=1, limit_train_batches=4,
                limit_val_batches=0).fit(Logs())
    mine = [w for w in caught if "log_gpu_memory" in str(w.message)]
    assert len(mine) == 1 and "\n" not in str(mine[0].message)
    assert len([m for _, m in logger.calls if "train_loss" in m]) == 4
    assert not any("gpu" in key for _, m in logger.calls for key in m)


@pytest.mark.parametrize(("mode", "keys"), [("min_max", {"min_gpu_mem", "max_gpu_mem"}),
                                            ("all", {"gpu_id: 0/memory.used (MB)", "gpu_id: 1/memory.used (MB)"})])
def test_readings_join_the_logged_metrics(monkeypatch: pytest.MonkeyPatch, mode: str, keys: set[str]) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_pynvml([100.0, 300.0]))
    logger = RecordingLogger()
    trainer(logger=logger, log_gpu_memory=mode, log_every_n_steps=2, max_epochs=1, limit_train_batches=4,
            limit_val_batches=0).fit(Logs())
    step_payloads = [m for _, m in logger.calls if "train_loss" in m]
    assert len(step_payloads) == 2
    for payload in step_payloads:
        assert keys <= set(payload)
    if mode == "min_max":
        assert (step_payloads[0]["min_gpu_mem"], step_payloads[0]["max_gpu_mem"]) == (100.0, 300.0)


def test_bad_mode() -> None:
    with pytest.raises(MisconfigurationError, match="log_gpu_memory"):
        trainer(log_gpu_memory="max")
