"""The batch-size searches against a plain oracle (no trainer): exactness, trial counts, caps."""

from __future__ import annotations

import pytest
import torch

from trainer_core.tuner.batch_size import Trial, binsearch, fit_search, is_oom_error, power_search

NO_CAP = lambda: 2**62  # noqa: E731


class Oracle:
    """Sizes up to ``limit`` fit; optional memory model ``a + b * n`` (bytes) reported as peak memory."""

    def __init__(self, limit: int, memory: tuple[float, float] | None = None) -> None:
        self.limit = limit
        self.memory = memory
        self.tried: list[int] = []

    def __call__(self, size: int) -> Trial:
        self.tried.append(size)
        fits = size <= self.limit
        peak = None
        if fits and self.memory is not None:
            a, b = self.memory
            peak = int(a + b * size)
        return Trial(size, fits, peak)


@pytest.mark.parametrize("limit", [1, 2, 3, 100, 129, 960, 1000])
def test_binsearch_finds_the_limit_exactly(limit: int) -> None:
    oracle = Oracle(limit)
    assert binsearch(oracle, 2, 25, NO_CAP) == limit
    assert max(s for s in oracle.tried if s <= limit) == limit


@pytest.mark.parametrize("limit,expected", [(1, 1), (2, 2), (3, 2), (100, 64), (129, 128), (960, 512)])
def test_power_finds_the_largest_power_of_two_below(limit: int, expected: int) -> None:
    oracle = Oracle(limit)
    assert power_search(oracle, 2, 25, NO_CAP) == expected
    # It stops at the first failure: one trial past the answer (or the halving when 2 already fails).
    assert oracle.tried[-1] == (expected * 2 if expected >= 2 else 2) or oracle.tried[-1] == 1


def test_power_halves_when_the_first_size_fails() -> None:
    oracle = Oracle(5)
    assert power_search(oracle, 64, 25, NO_CAP) == 4
    assert oracle.tried == [64, 32, 16, 8, 4]


def test_binsearch_counts_trials_like_1_5() -> None:
    """tests/tuner/test_scale_batch_size.py @1.5.0: init_val=4, max_trials=2, no OOM -> 16."""
    oracle = Oracle(10**9)
    assert binsearch(oracle, 4, 2, NO_CAP) == 16
    assert oracle.tried == [4, 8, 16]


def test_power_runs_at_most_max_trials() -> None:
    oracle = Oracle(10**9)
    assert power_search(oracle, 2, 3, NO_CAP) == 8
    assert oracle.tried == [2, 4, 8]


def test_searches_stop_at_the_cap() -> None:
    for search in (power_search, binsearch):
        oracle = Oracle(10**9)
        assert search(oracle, 2, 25, lambda: 100) == 100
        assert oracle.tried[-1] == 100 and oracle.tried.count(100) == 1


def test_nothing_fits_returns_none() -> None:
    assert binsearch(Oracle(0), 4, 25, NO_CAP) is None
    assert power_search(Oracle(0), 4, 25, NO_CAP) is None
    assert fit_search(Oracle(0), 4, 25, NO_CAP, lambda: None) is None


@pytest.mark.parametrize("limit", [1, 5, 8, 31, 100, 960, 4097])
def test_fit_without_memory_statistics_is_exact(limit: int) -> None:
    """On the CPU there is no peak-memory reading: the fit mode bisects to one sample."""
    oracle = Oracle(limit)
    assert fit_search(oracle, 2, 40, NO_CAP, lambda: None) == limit


def _budget_for(limit: int, a: float, b: float) -> int:
    # The card holds exactly `limit` samples under the memory line.
    return int(a + b * limit + b / 2)


def test_fit_with_an_exact_memory_line_needs_few_trials() -> None:
    a, b, limit = 71e6, 101.5e6, 960
    oracle = Oracle(limit, (a, b))
    found = fit_search(oracle, 2, 25, NO_CAP, lambda: _budget_for(limit, a, b), tolerance=0.02)
    assert 0.98 * limit <= found <= limit
    # Three probes, the jump to the predicted limit, and one more to see the failure.
    assert len(oracle.tried) <= 5
    binsearch_oracle = Oracle(limit)
    binsearch(binsearch_oracle, 2, 25, NO_CAP)
    assert len(oracle.tried) < len(binsearch_oracle.tried)


def test_fit_with_tolerance_zero_is_exact_even_when_the_line_is_pessimistic() -> None:
    """Memory per sample shrinks at large batches (gpu-facts): the line predicts ~15 % short of the real limit."""
    a, b, limit = 71e6, 101.5e6, 960
    budget = int(a + b * 820)  # the line from small probes says 820
    oracle = Oracle(limit, (a, b * 820 / 960))  # but big batches cost less per sample
    assert fit_search(oracle, 2, 40, NO_CAP, lambda: budget, tolerance=0.0) == limit


def test_fit_when_the_prediction_overshoots() -> None:
    a, b = 71e6, 101.5e6
    budget = int(a + b * 1100)  # predicts 1100, but only 960 fit
    oracle = Oracle(960, (a, b))
    found = fit_search(oracle, 2, 25, NO_CAP, lambda: budget, tolerance=0.02)
    assert 0.98 * 960 <= found <= 960
    assert len(oracle.tried) <= 9


def test_fit_respects_the_cap() -> None:
    a, b = 1e6, 1e6
    oracle = Oracle(10**6, (a, b))
    assert fit_search(oracle, 2, 25, lambda: 50, lambda: int(a + b * 10**6)) == 50


def test_oom_recognition() -> None:
    assert is_oom_error(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert is_oom_error(RuntimeError("CUDA error: out of memory"))
    assert is_oom_error(RuntimeError("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED. This error may appear if ..."))
    assert is_oom_error(RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate "
                                     "memory: you tried to allocate 1099511627776 bytes."))
    assert not is_oom_error(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_oom_error(ValueError("CUDA out of memory"))
    assert not is_oom_error(RuntimeError("CUDA out of memory", "two args"))
