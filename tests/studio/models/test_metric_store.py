import numpy as np

from studio.models.metric_store import MetricStore, Series
from tests.helpers.reference_ema import reference_ema


def test_append_grows_and_views_share_memory():
    series = Series("loss", capacity=2)
    for i in range(1000):
        assert series.append(i, i * 0.5)
    x, y = series.view()
    assert len(x) == 1000 and x[-1] == 999 and y[10] == 5.0
    assert not x.flags.writeable


def test_same_step_replaces_and_backwards_step_is_dropped():
    series = Series("loss")
    series.append(1, 1.0)
    series.append(1, 2.0)
    assert not series.append(0, 3.0)
    assert len(series) == 1 and series.last() == (1.0, 2.0)


def test_cap_halves_density_but_keeps_first_and_newest():
    series = Series("loss", capacity=4, max_points=64)
    for i in range(1000):
        series.append(i, float(i))
    x, _ = series.view()
    assert len(x) <= 64 and x[0] == 0 and x[-1] == 999
    assert np.all(np.diff(x) > 0)


def test_extend_skips_points_not_after_the_last():
    series = Series("a")
    series.extend(np.arange(5.0), np.arange(5.0))
    series.extend(np.arange(3.0, 8.0), np.ones(5))
    x, y = series.view()
    assert list(x) == [0, 1, 2, 3, 4, 5, 6, 7] and y[-1] == 1.0


def test_store_add_many_ignores_non_numbers_and_marks_epoch_series():
    store = MetricStore()
    store.add_many(3, {"a": 1.0, "b": "nan", "c": "text", "d": None})
    store.add_many(5, {"v": 0.5}, kind="epoch")
    assert store.names() == ["a", "v"]
    assert store.series("v").kind == "epoch"
    version = store.version
    store.clear()
    assert store.names() == [] and store.version > version


def test_step_clock_maps_steps_to_epoch_and_seconds():
    import numpy as np

    from studio.models.metric_store import MetricStore

    store = MetricStore()
    steps = np.array([0.0, 10.0, 20.0])
    np.testing.assert_allclose(store.clock.to_epoch(steps), steps)  # nothing noted: steps pass through
    store.clock.note(0, 0, 100.0)
    store.clock.note(10, 1, 110.0)
    store.clock.note(5, 0, 90.0)  # going backwards is ignored
    store.clock.note(20, "x", 120.0)  # not a number: ignored
    np.testing.assert_allclose(store.clock.to_epoch(np.array([0.0, 5.0, 10.0])), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(store.clock.to_seconds(np.array([0.0, 10.0])), [0.0, 10.0])
    store.clear()
    assert len(store.clock) == 0


def test_kept_smoothing_equals_smoothing_the_raw_values_however_the_points_arrived():
    rng = np.random.default_rng(3)
    series = Series("loss", capacity=8, max_points=4096)
    step = 0
    for _ in range(40):
        for _ in range(int(rng.integers(1, 60))):
            series.append(step, float(rng.normal()))
            step += 1
        if rng.random() < 0.3:
            series.smoothed(0.9)  # drawn, then the same step comes again and replaces the newest point
            series.append(step - 1, float(rng.normal()))
        if rng.random() < 0.2:
            series.extend(np.arange(step, step + 300.0), rng.normal(size=300))
            step += 300
        if rng.random() < 0.1:
            series.append(step, float("nan"))
            step += 1
        np.testing.assert_allclose(series.smoothed(0.9), reference_ema(series.view()[1], 0.9), rtol=1e-9,
                                   atol=1e-9)
    assert len(series) < step  # the cap halved the density on the way, and the smoothing followed
    np.testing.assert_allclose(series.smoothed(0.5), reference_ema(series.view()[1], 0.5), rtol=1e-9, atol=1e-9)


def test_a_long_history_is_smoothed_in_slices_of_the_budget():
    series = Series("loss")
    values = np.random.default_rng(4).normal(size=10_000)
    series.extend(np.arange(10_000.0), values)
    assert series.smoothing_lag(0.8) == 10_000
    slices = 1
    while not series.smooth_some(0.8, 3_000):
        slices += 1
        assert series.smoothing_lag(0.8) == 10_000 - 3_000 * (slices - 1)
    assert slices == 4 and series.smoothing_lag(0.8) == 0
    series.append(10_000, 1.0)
    assert series.smoothing_lag(0.8) == 1 and series.smoothing_lag(0.7) == 10_001  # a new weight starts over
    np.testing.assert_allclose(series.smoothed(0.8), reference_ema(series.view()[1], 0.8), rtol=1e-9, atol=1e-9)
