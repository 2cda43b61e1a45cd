import numpy as np
import pytest

from studio.models.smoothing import EmaCache, ema
from tests.helpers.reference_ema import reference_ema

reference = reference_ema


@pytest.mark.parametrize("weight", [0.0, 0.05, 0.6, 0.95, 0.999])
def test_matches_the_debiased_recurrence(weight):
    y = np.random.default_rng(1).normal(size=5000)
    y[[3, 100]] = [np.nan, np.inf]
    np.testing.assert_allclose(ema(y, weight), reference(y, weight), rtol=1e-9, atol=1e-9)


def test_first_point_is_unbiased_and_constant_series_untouched():
    assert ema(np.array([4.0, 4.0, 4.0]), 0.9).tolist() == [4.0, 4.0, 4.0]
    assert ema(np.array([2.0, 0.0]), 0.9)[0] == pytest.approx(2.0)


def test_cache_extends_incrementally_and_restarts_on_weight_change():
    y = np.random.default_rng(2).normal(size=3000)
    cache = EmaCache()
    cache.update(y[:1000], 0.8)
    np.testing.assert_allclose(cache.update(y, 0.8), reference(y, 0.8), atol=1e-9)
    np.testing.assert_allclose(cache.update(y, 0.3), reference(y, 0.3), atol=1e-9)
